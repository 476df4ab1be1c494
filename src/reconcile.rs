//! Reconciling what was observed with what Security Hub already holds, per
//! account-region. Pure.
//!
//! - an observed stage keeps its finding `Id`, `CreatedAt` and
//!   `FirstObservedAt`; `UpdatedAt` / `LastObservedAt` move to now;
//! - an ACTIVE finding whose stage was not observed is re-imported
//!   ARCHIVED, but only when the inventory of that account-region
//!   completed: a partial scan never archives anything;
//! - findings already ARCHIVED whose stage is gone are left to expire
//!   (Security Hub deletes them 30 days after their last update).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::asff::{build_finding, timestamp, Finding, FirstSeen, RecordState};
use crate::evaluate::Evaluation;

#[derive(Debug, Default)]
pub struct Reconciled {
    /// Everything to import: one finding per observed stage, then the
    /// archivals.
    pub findings: Vec<Finding>,
    /// ACTIVE findings archived because their stage is gone.
    pub archived: usize,
    /// ACTIVE findings whose stage was not observed, left untouched because
    /// the inventory was incomplete.
    pub archive_withheld: usize,
}

pub fn reconcile(
    observed: &[Evaluation],
    existing: &[Finding],
    inventory_complete: bool,
    now: DateTime<Utc>,
) -> Reconciled {
    let by_id: BTreeMap<&str, &Finding> = existing.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut out = Reconciled::default();
    let mut seen = BTreeSet::new();
    for ev in observed {
        let id = crate::asff::finding_id(&ev.stage);
        let first_seen = by_id.get(id.as_str()).map(|f| FirstSeen {
            created_at: f.created_at.clone(),
            first_observed_at: f.first_observed_at.clone(),
        });
        out.findings
            .push(build_finding(ev, now, first_seen.as_ref()));
        seen.insert(id);
    }
    let now = timestamp(now);
    for f in existing {
        if f.record_state != RecordState::Active || seen.contains(&f.id) {
            continue;
        }
        if !inventory_complete {
            out.archive_withheld += 1;
            continue;
        }
        let mut gone = f.clone();
        gone.record_state = RecordState::Archived;
        // Must be newer than the stored UpdatedAt or Security Hub ignores
        // the update; LastObservedAt stays when the stage was last seen.
        gone.updated_at = now.clone();
        out.findings.push(gone);
        out.archived += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::evaluate::tests::{eval, stage};
    use crate::evaluate::Compliance;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap()
    }

    fn state(r: &Reconciled) -> Vec<(String, RecordState, Compliance, String)> {
        r.findings
            .iter()
            .map(|f| {
                let short = f.id.rsplit_once("/eu-west-1/").unwrap().1.to_owned();
                (
                    short,
                    f.record_state,
                    f.compliance.status,
                    f.created_at.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn observed_stages_keep_their_first_seen_and_gone_ones_are_archived() {
        let first = reconcile(
            &[
                eval(stage("a", "prod", false)),
                eval(stage("b", "prod", false)),
            ],
            &[],
            true,
            at(1),
        );
        assert_eq!((first.findings.len(), first.archived), (2, 0));

        // Day 2: a/prod fixed, b/prod deleted, c/prod new.
        let second = reconcile(
            &[
                eval(stage("a", "prod", true)),
                eval(stage("c", "prod", false)),
            ],
            &first.findings,
            true,
            at(2),
        );
        let d1 = "2026-11-01T02:00:00.000Z".to_owned();
        let d2 = "2026-11-02T02:00:00.000Z".to_owned();
        assert_eq!(
            state(&second),
            [
                (
                    "a/prod".into(),
                    RecordState::Active,
                    Compliance::Passed,
                    d1.clone()
                ),
                (
                    "c/prod".into(),
                    RecordState::Active,
                    Compliance::Failed,
                    d2.clone()
                ),
                (
                    "b/prod".into(),
                    RecordState::Archived,
                    Compliance::Failed,
                    d1.clone()
                ),
            ]
        );
        assert_eq!(second.archived, 1);
        let archived = &second.findings[2];
        assert_eq!(archived.updated_at, d2);
        assert_eq!(
            archived.last_observed_at, d1,
            "last observed when it still existed"
        );
        assert_eq!(second.findings[0].updated_at, d2);
        assert_eq!(second.findings[0].first_observed_at, d1);
    }

    #[test]
    fn an_incomplete_inventory_archives_nothing() {
        let first = reconcile(
            &[
                eval(stage("a", "prod", false)),
                eval(stage("b", "prod", false)),
            ],
            &[],
            true,
            at(1),
        );
        let partial = reconcile(
            &[eval(stage("a", "prod", false))],
            &first.findings,
            false,
            at(2),
        );
        assert_eq!(
            (
                partial.findings.len(),
                partial.archived,
                partial.archive_withheld
            ),
            (1, 0, 1)
        );
        assert!(partial
            .findings
            .iter()
            .all(|f| f.record_state == RecordState::Active));
    }

    #[test]
    fn already_archived_findings_of_gone_stages_are_left_to_expire() {
        let first = reconcile(&[eval(stage("a", "prod", false))], &[], true, at(1));
        let gone = reconcile(&[], &first.findings, true, at(2));
        assert_eq!(gone.archived, 1);
        let again = reconcile(&[], &gone.findings, true, at(3));
        assert!(
            again.findings.is_empty(),
            "not refreshed, so Security Hub can delete it"
        );
    }

    #[test]
    fn rerunning_gives_the_same_ids() {
        let evs = [
            eval(stage("a", "prod", false)),
            eval(stage("a", "dev", true)),
        ];
        let one = reconcile(&evs, &[], true, at(1));
        let two = reconcile(&evs, &one.findings, true, at(2));
        let ids = |r: &Reconciled| r.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&one), ids(&two));
        assert_eq!(two.archived, 0);
    }
}
