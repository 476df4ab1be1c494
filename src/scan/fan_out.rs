//! A planning run: with a fan-out queue, one message per account and
//! nothing scanned here.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{elapsed_ms, ScanOutput};
use crate::aws::accounts::Identity;
use crate::aws::{fanout, AwsEnv};
use crate::plan::Plan;
use crate::report::{ErrorEntry, Summary};

/// Who runs, why and when: what every summary starts from.
pub(super) struct RunStart<'a> {
    pub me: &'a Identity,
    pub trigger: &'a crate::trigger::Trigger,
    pub now: DateTime<Utc>,
    pub started: Instant,
}

/// Sends one message per account and reports that; scans nothing.
pub(super) async fn fan_out_only(
    env: &AwsEnv,
    queue_url: &str,
    plan: Plan,
    start: RunStart<'_>,
) -> ScanOutput {
    let RunStart {
        me,
        trigger,
        now,
        started,
    } = start;
    let (report, errors) = fanout::enqueue(
        &env.sqs(),
        queue_url,
        &plan.targets,
        &plan.regions,
        plan.dry_run,
    )
    .await;
    let mut summary = Summary::new(
        trigger.clone(),
        plan.dry_run,
        now,
        Some(&me.account),
        &plan.regions,
        plan.skipped,
    );
    summary.duration_ms = elapsed_ms(started);
    summary.errors = errors.iter().map(ErrorEntry::from).collect();
    summary.fan_out = Some(report);
    summary.requests = env.stats.snapshot();
    summary.finish();
    ScanOutput {
        summary,
        findings: Vec::new(),
        failing: Vec::new(),
        failed_paths: Vec::new(),
        accounts: plan.targets,
        regions: plan.regions,
    }
}
