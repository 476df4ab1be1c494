//! What a run did: per account-region counts, every error with its context,
//! and the requests made. Serialised as the Lambda result and `--format
//! json`; rendered as a table for people (`table`). Pure: each adapter
//! turns its own error into an [`ErrorEntry`] (`From<&XError>`), so nothing
//! here knows an SDK type.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{AccountId, AccountRegion, Region};
use crate::trigger::Trigger;

mod errors;
mod table;
pub use errors::{account_or_empty, chain, ErrorEntry, ErrorKind};

/// Calls (operations) and attempts (HTTP requests, retries included) of one
/// `Service.Operation`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OpCount {
    pub calls: u64,
    pub attempts: u64,
}

/// What a planning run (fan-out) queued.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FanOutReport {
    pub queue_url: String,
    pub accounts_queued: usize,
    pub accounts_not_queued: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every planned account-region was scanned and every finding landed
    /// (or, in a dry run, was built).
    Complete,
    /// Something could not be scanned or published; see `errors`.
    Partial,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Complete => "complete",
            RunStatus::Partial => "partial",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub status: RunStatus,
    pub dry_run: bool,
    /// Whether trace paths were followed (`--trace-path`).
    pub trace_path: bool,
    /// Whether traced stages' sampling rules were judged (`--sampling`).
    pub sampling: bool,
    pub trigger: Trigger,
    #[serde(with = "crate::asff::ts")]
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// `""` in the JSON when no run of this invocation learnt it (a burst
    /// of change events that were all ignored).
    #[serde(serialize_with = "account_or_empty")]
    pub scanner_account: Option<AccountId>,
    pub regions: Vec<Region>,
    pub totals: Totals,
    pub results: Vec<RegionResult>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ErrorEntry>,
    /// Problems that do not make the run partial (malformed exemption tags).
    pub warnings: Vec<ErrorEntry>,
    /// A planning run (fan-out): what it queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fan_out: Option<FanOutReport>,
    /// AWS requests by `Service.Operation`: calls, and attempts (retries included).
    pub requests: BTreeMap<String, OpCount>,
    /// Each configured exemption and how many stages it matched this run
    /// (an over-broad `*/*/*` shows here; so does one that matches nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exemptions: Vec<ExemptionUse>,
    /// Change events that changed nothing, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<crate::trigger::change::IgnoredEvent>,
}

/// One configured exemption (`APIGW_TRACING_EXEMPTIONS` entry `index`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExemptionUse {
    pub index: usize,
    pub stage: String,
    pub stages_matched: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub accounts: usize,
    pub accounts_failed: usize,
    pub account_regions: usize,
    pub apis: usize,
    pub stages: usize,
    pub failing: usize,
    pub passing: usize,
    pub exempt: usize,
    pub archived: usize,
    /// Traced stages whose path was judged or left UNKNOWN (trace path on).
    pub paths: usize,
    pub paths_failed: usize,
    pub paths_unknown: usize,
    pub paths_archived: usize,
    /// Traced stages whose sampling was judged or left UNKNOWN (sampling
    /// on), the FAILED (blind), WARNING (partly seen) and UNKNOWN ones, and
    /// sampling findings archived.
    pub sampling: usize,
    pub sampling_failed: usize,
    pub sampling_warning: usize,
    pub sampling_unknown: usize,
    pub sampling_archived: usize,
    pub findings_imported: usize,
    pub findings_not_imported: usize,
    pub errors: usize,
}

/// One account in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionResult {
    pub account: AccountId,
    pub region: Region,
    pub apis: usize,
    pub stages: usize,
    /// Failing stages, exempted ones not included.
    pub failing: usize,
    pub passing: usize,
    /// Failing stages with an exemption in force (reported ARCHIVED).
    pub exempt: usize,
    /// Findings archived because their stage is gone.
    pub archived: usize,
    /// Findings of unseen stages left untouched because the inventory was
    /// incomplete (a partial scan never archives).
    pub archive_withheld: usize,
    /// Trace paths of traced stages (with `--trace-path`): all, FAILED,
    /// UNKNOWN (left as they were), and trace-path findings archived.
    pub paths: usize,
    pub paths_failed: usize,
    pub paths_unknown: usize,
    pub paths_archived: usize,
    /// Sampling verdicts of traced stages (with `--sampling on`): all,
    /// FAILED (blind), WARNING (partly seen), UNKNOWN (left as they were),
    /// and sampling findings archived.
    pub sampling: usize,
    pub sampling_failed: usize,
    pub sampling_warning: usize,
    pub sampling_unknown: usize,
    pub sampling_archived: usize,
    /// Findings Security Hub accepted (0 in a dry run).
    pub imported: usize,
    /// Findings built but not imported: rejected, invalid, or not sent
    /// because of an error (a dry run counts none here).
    pub not_imported: usize,
    /// False when any inventory call failed: stages may be missing.
    pub inventory_complete: bool,
    pub errors: usize,
}

impl RegionResult {
    /// A row with every count at zero and the inventory not (yet) complete.
    pub fn new(at: &AccountRegion) -> Self {
        Self {
            account: at.account.clone(),
            region: at.region,
            apis: 0,
            stages: 0,
            failing: 0,
            passing: 0,
            exempt: 0,
            archived: 0,
            archive_withheld: 0,
            paths: 0,
            paths_failed: 0,
            paths_unknown: 0,
            paths_archived: 0,
            sampling: 0,
            sampling_failed: 0,
            sampling_warning: 0,
            sampling_unknown: 0,
            sampling_archived: 0,
            imported: 0,
            not_imported: 0,
            inventory_complete: false,
            errors: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub account: AccountId,
    pub reason: String,
}

impl Summary {
    /// An empty summary of a run about to start.
    pub fn new(
        trigger: Trigger,
        dry_run: bool,
        started_at: DateTime<Utc>,
        scanner_account: Option<&AccountId>,
        regions: &[Region],
        skipped: Vec<Skipped>,
    ) -> Self {
        Summary {
            status: RunStatus::Complete,
            dry_run,
            trace_path: false,
            sampling: false,
            trigger,
            started_at: crate::asff::finding_time(started_at),
            duration_ms: 0,
            scanner_account: scanner_account.cloned(),
            regions: regions.to_vec(),
            totals: Totals::default(),
            results: Vec::new(),
            skipped,
            errors: Vec::new(),
            warnings: Vec::new(),
            fan_out: None,
            requests: BTreeMap::new(),
            exemptions: Vec::new(),
            ignored: Vec::new(),
        }
    }

    /// Recomputes totals and status from results and errors.
    pub fn finish(&mut self) {
        let mut t = Totals {
            accounts: self
                .results
                .iter()
                .map(|r| Some(&r.account))
                .chain(
                    self.errors
                        .iter()
                        .filter(|e| e.kind == ErrorKind::AssumeRole)
                        .map(|e| e.account.as_ref()),
                )
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            accounts_failed: self
                .errors
                .iter()
                .filter(|e| e.kind == ErrorKind::AssumeRole)
                .count(),
            account_regions: self.results.len(),
            errors: self.errors.len(),
            ..Totals::default()
        };
        for r in &self.results {
            t.apis += r.apis;
            t.stages += r.stages;
            t.failing += r.failing;
            t.passing += r.passing;
            t.exempt += r.exempt;
            t.archived += r.archived;
            t.paths += r.paths;
            t.paths_failed += r.paths_failed;
            t.paths_unknown += r.paths_unknown;
            t.paths_archived += r.paths_archived;
            t.sampling += r.sampling;
            t.sampling_failed += r.sampling_failed;
            t.sampling_warning += r.sampling_warning;
            t.sampling_unknown += r.sampling_unknown;
            t.sampling_archived += r.sampling_archived;
            t.findings_imported += r.imported;
            t.findings_not_imported += r.not_imported;
        }
        self.status = if self.errors.is_empty() {
            RunStatus::Complete
        } else {
            RunStatus::Partial
        };
        self.totals = t;
        self.results
            .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        self.errors.sort_by(|a, b| {
            (&a.account, &a.region, &a.api_id).cmp(&(&b.account, &b.region, &b.api_id))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str) -> AccountId {
        AccountId::parse(id).unwrap()
    }

    fn result(id: &str, region: &str, failing: usize, passing: usize) -> RegionResult {
        let at = AccountRegion::new(account(id), Region::parse(region).unwrap());
        RegionResult {
            apis: 1,
            stages: failing + passing,
            failing,
            passing,
            imported: failing + passing,
            inventory_complete: true,
            ..RegionResult::new(&at)
        }
    }

    fn summary(results: Vec<RegionResult>, errors: Vec<ErrorEntry>) -> Summary {
        let mut s = Summary {
            status: RunStatus::Complete,
            dry_run: false,
            trace_path: false,
            sampling: false,
            trigger: Trigger::Cli,
            started_at: DateTime::<Utc>::UNIX_EPOCH,
            duration_ms: 0,
            scanner_account: Some(account("000000000000")),
            regions: vec![],
            totals: Totals::default(),
            results,
            skipped: vec![],
            errors,
            warnings: vec![],
            fan_out: None,
            requests: BTreeMap::new(),
            exemptions: Vec::new(),
            ignored: Vec::new(),
        };
        s.finish();
        s
    }

    #[test]
    fn totals_add_up_and_errors_make_a_run_partial() {
        let ok = summary(
            vec![
                result("111111111111", "eu-west-1", 2, 1),
                result("222222222222", "eu-west-1", 0, 4),
            ],
            vec![],
        );
        assert_eq!(ok.status, RunStatus::Complete);
        assert_eq!(
            (
                ok.totals.accounts,
                ok.totals.stages,
                ok.totals.failing,
                ok.totals.passing
            ),
            (2, 7, 2, 5)
        );
        let err = ErrorEntry {
            kind: ErrorKind::AssumeRole,
            account: Some(account("333333333333")),
            region: None,
            api_id: None,
            finding_id: None,
            code: Some("AccessDenied".into()),
            message: "account 333333333333: cannot assume".into(),
        };
        let partial = summary(vec![result("111111111111", "eu-west-1", 2, 1)], vec![err]);
        assert_eq!(partial.status, RunStatus::Partial);
        assert_eq!(
            (partial.totals.accounts, partial.totals.accounts_failed),
            (2, 1)
        );
        let table = partial.render_table();
        assert!(
            table.contains("[AssumeRole AccessDenied] account 333333333333"),
            "{table}"
        );
        assert!(table.contains("status: PARTIAL"), "{table}");
    }
}
