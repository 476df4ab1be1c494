use chrono::TimeZone;

use super::*;
use crate::evaluate::Compliance;
use apigw_tracing_rule::testing::{eval, stage};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap()
}

fn state(p: &Prepared) -> Vec<(String, RecordState, Compliance, DateTime<Utc>)> {
    p.findings()
        .map(|f| {
            let s = asff::stage_of_id(&f.id).unwrap();
            (
                format!("{}/{}", s.api_id, s.stage),
                f.record_state,
                f.compliance.status,
                f.created_at,
            )
        })
        .collect()
}

fn all(p: &Prepared) -> Vec<Finding> {
    p.findings().cloned().collect()
}

#[test]
fn observed_stages_keep_their_first_seen_and_gone_ones_are_archived() {
    let first = prepare(
        &[
            eval(stage("a", "prod", false)),
            eval(stage("b", "prod", false)),
        ],
        &[],
        Coverage::Complete,
        at(1),
    );
    assert_eq!((first.len(), first.archived), (2, 0));

    // Day 2: a/prod fixed, b/prod deleted, c/prod new.
    let second = prepare(
        &[
            eval(stage("a", "prod", true)),
            eval(stage("c", "prod", false)),
        ],
        &all(&first),
        Coverage::Complete,
        at(2),
    );
    assert_eq!(
        state(&second),
        [
            (
                "a/prod".into(),
                RecordState::Active,
                Compliance::Passed,
                at(1)
            ),
            (
                "c/prod".into(),
                RecordState::Active,
                Compliance::Failed,
                at(2)
            ),
            (
                "b/prod".into(),
                RecordState::Archived,
                Compliance::Failed,
                at(1)
            ),
        ]
    );
    assert_eq!(second.archived, 1);
    let findings = all(&second);
    let archived = &findings[2];
    assert_eq!(archived.updated_at, at(2));
    assert_eq!(
        archived.last_observed_at,
        at(1),
        "last observed when it still existed"
    );
    assert_eq!(findings[0].updated_at, at(2));
    assert_eq!(findings[0].first_observed_at, at(1));
}

#[test]
fn an_incomplete_inventory_archives_nothing() {
    let first = prepare(
        &[
            eval(stage("a", "prod", false)),
            eval(stage("b", "prod", false)),
        ],
        &[],
        Coverage::Complete,
        at(1),
    );
    let partial = prepare(
        &[eval(stage("a", "prod", false))],
        &all(&first),
        Coverage::Partial,
        at(2),
    );
    assert_eq!(
        (partial.len(), partial.archived, partial.archive_withheld),
        (1, 0, 1)
    );
    assert!(partial
        .findings()
        .all(|f| f.record_state == RecordState::Active));
}

#[test]
fn observed_only_touches_the_observed_stages_and_counts_nothing_else() {
    let first = prepare(
        &[
            eval(stage("a", "prod", false)),
            eval(stage("b", "prod", false)),
        ],
        &[],
        Coverage::Complete,
        at(1),
    );
    let fixed = prepare(
        &[eval(stage("a", "prod", true))],
        &all(&first),
        Coverage::ObservedOnly,
        at(2),
    );
    assert_eq!(
        state(&fixed),
        [(
            "a/prod".into(),
            RecordState::Active,
            Compliance::Passed,
            at(1)
        )]
    );
    assert_eq!((fixed.archived, fixed.archive_withheld), (0, 0));
}

#[test]
fn already_archived_findings_of_gone_stages_are_left_to_expire() {
    let first = prepare(
        &[eval(stage("a", "prod", false))],
        &[],
        Coverage::Complete,
        at(1),
    );
    let gone = prepare::<Evaluation>(&[], &all(&first), Coverage::Complete, at(2));
    assert_eq!(gone.archived, 1);
    let again = prepare::<Evaluation>(&[], &all(&gone), Coverage::Complete, at(3));
    assert!(
        again.is_empty(),
        "not refreshed, so Security Hub can delete it"
    );
}

#[test]
fn rerunning_gives_the_same_ids() {
    let evs = [
        eval(stage("a", "prod", false)),
        eval(stage("a", "dev", true)),
    ];
    let one = prepare(&evs, &[], Coverage::Complete, at(1));
    let two = prepare(&evs, &all(&one), Coverage::Complete, at(2));
    let ids = |p: &Prepared| p.findings().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&one), ids(&two));
    assert_eq!(two.archived, 0);
}

#[test]
fn a_finding_that_breaks_the_rules_is_kept_out_of_the_batches() {
    // ASFF allows at most 50 tags on a resource.
    let mut tagged = stage("a", "prod", false);
    for i in 0..51 {
        tagged.tags.insert(format!("k{i}"), "v".into());
    }
    let fine = eval(stage("b", "prod", false));
    let out = prepare(&[fine, eval(tagged)], &[], Coverage::Complete, at(1));
    assert_eq!((out.len(), out.invalid.len()), (1, 1));
    assert!(out.invalid[0].id.ends_with("/a/prod"), "{}", out.invalid[0]);
    assert!(out.findings().all(|f| asff::validate(f).is_ok()));
}

#[test]
fn batches_hold_at_most_100_findings_and_6_mb() {
    assert_eq!(batch_sizes(&[]), Vec::<usize>::new());
    assert_eq!(batch_sizes(&[1000; 100]), [100]);
    assert_eq!(batch_sizes(&[1000; 250]), [100, 100, 50]);
    // 30 findings of 240 KB: 24 fit under the byte limit.
    let big = 240 * 1024;
    assert_eq!(batch_sizes(&[big; 30]), [24, 6]);
    assert!(24 * big <= MAX_BATCH_BYTES && 25 * big > MAX_BATCH_BYTES);
    let many: Vec<Evaluation> = (0..250)
        .map(|i| eval(stage(&format!("api{i:03}"), "prod", false)))
        .collect();
    let out = prepare(&many, &[], Coverage::Complete, at(1));
    let lens: Vec<usize> = out.batches.iter().map(Vec::len).collect();
    assert_eq!(lens, [100, 100, 50]);
}
