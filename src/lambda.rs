//! The Lambda handler: event in, scan, summary out.

use lambda_runtime::Diagnostic;
use serde_json::{json, Value};
use tracing::{error, info, warn};

use crate::aws::AwsEnv;
use crate::config::Config;
use crate::report::{RunStatus, Summary};
use crate::scan::{self, ScanError, ScanOptions};
use std::collections::{BTreeMap, BTreeSet};

use crate::model::AccountId;
use crate::trigger::{parse_invocation, Invocation, QueueItem, ScanRequest, Trigger, TriggerError};

/// Metric namespace of the embedded-metric-format log line.
pub const METRIC_NAMESPACE: &str = "apigw-tracing";

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event was refused before any AWS call.
    #[error("invalid event: {0}")]
    Event(#[from] TriggerError),
    /// The scan could not start (no region, no identity, no account list).
    #[error("scan not started: {0}")]
    Scan(#[from] ScanError),
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        Diagnostic {
            error_type: match e {
                HandlerError::Event(_) => "InvalidEvent",
                HandlerError::Scan(_) => "ScanNotStarted",
            }
            .into(),
            error_message: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
        }
    }
}

/// Built once per execution environment, borrowed by every invocation.
pub struct Handler {
    env: AwsEnv,
    cfg: Config,
}

impl Handler {
    pub fn new(env: AwsEnv, cfg: Config) -> Self {
        Self { env, cfg }
    }

    /// Handles one event. A partial run still returns its summary (status
    /// `partial`): a retry by Lambda would not fix it, and the alarm on the
    /// PartialRuns metric tells the operator.
    ///
    /// `deadline_ms` is the invocation's deadline (milliseconds since the
    /// epoch, from the Lambda context; 0: none).
    pub fn handle(
        &self,
        event: Value,
        deadline_ms: u64,
    ) -> futures::future::BoxFuture<'_, Result<Value, HandlerError>> {
        use futures::FutureExt;
        self.handle_inner(event, deadline_ms).boxed()
    }

    async fn handle_inner(&self, event: Value, deadline_ms: u64) -> Result<Value, HandlerError> {
        let invocation =
            parse_invocation(&event).inspect_err(|e| error!(error = %e, "event refused"))?;
        let opts = ScanOptions {
            deadline: run_deadline(deadline_ms, chrono::Utc::now().timestamp_millis()),
            start_margin: self.cfg.deadline_margin,
            ..ScanOptions::default()
        };
        match invocation {
            Invocation::Scan(req) => {
                info!(trigger = ?req.trigger, "invocation");
                let summary = self.scan(&req, opts).await?;
                Ok(serde_json::to_value(&summary).expect("summary serialises"))
            }
            Invocation::Queue(items) => Ok(self.consume(items, opts).await),
        }
    }

    async fn scan(&self, req: &ScanRequest, opts: ScanOptions) -> Result<Summary, ScanError> {
        // scan::run has logged the totals ("scan finished") and every
        // account-region and error on its own line; the full summary is the
        // result (a log event holds at most 256 KB, an organization's
        // summary several MB).
        let out = scan::run(&self.env, &self.cfg, req, opts).await?;
        println!(
            "{}",
            metrics_line(&out.summary, chrono::Utc::now().timestamp_millis())
        );
        Ok(out.summary)
    }

    /// One batch of the fan-out queue. Messages with the same scope are
    /// scanned together; a message is reported failed (so SQS delivers it
    /// again, and after the queue's maxReceiveCount moves it to the
    /// dead-letter queue) when it is malformed or its account had any error.
    async fn consume(&self, items: Vec<QueueItem>, opts: ScanOptions) -> Value {
        info!(messages = items.len(), "queue batch");
        let mut failed: Vec<String> = Vec::new();
        let mut groups: BTreeMap<Scope, Vec<(String, AccountId)>> = BTreeMap::new();
        for item in items {
            match item.request {
                Err(e) => {
                    error!(message_id = %item.message_id, error = %e, "poison message");
                    failed.push(item.message_id);
                }
                Ok(req) => {
                    let key = (req.regions.clone().unwrap_or_default(), req.dry_run);
                    for account in req.accounts.into_iter().flatten() {
                        groups
                            .entry(key.clone())
                            .or_default()
                            .push((item.message_id.clone(), account));
                    }
                }
            }
        }
        for ((regions, dry_run), members) in groups {
            let mut accounts: Vec<AccountId> = members.iter().map(|(_, a)| a.clone()).collect();
            accounts.sort();
            accounts.dedup();
            let req = ScanRequest {
                accounts: Some(accounts),
                regions: (!regions.is_empty()).then_some(regions),
                dry_run,
                trigger: Trigger::Queue,
            };
            let bad: BTreeSet<String> = match self.scan(&req, opts).await {
                Ok(summary) => summary.errors.iter().map(|e| e.account.clone()).collect(),
                Err(e) => {
                    error!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "queue batch not scanned");
                    members.iter().map(|(_, a)| a.to_string()).collect()
                }
            };
            failed.extend(
                members
                    .into_iter()
                    .filter(|(_, a)| bad.contains(a.as_str()))
                    .map(|(id, _)| id),
            );
        }
        failed.sort();
        failed.dedup();
        if !failed.is_empty() {
            warn!(failed = failed.len(), "messages returned to the queue");
        }
        json!({"batchItemFailures": failed.iter().map(|id| json!({"itemIdentifier": id})).collect::<Vec<_>>()})
    }
}

/// Messages asking for the same regions and dry-run mode are scanned together.
type Scope = (Vec<String>, bool);

/// Time kept after the run to log and return the summary.
const RETURN_RESERVE: std::time::Duration = std::time::Duration::from_secs(5);

/// The instant the scan must be over: the invocation's deadline less the
/// time needed to return. `None` without a deadline (0, or a test context).
pub fn run_deadline(deadline_ms: u64, now_ms: i64) -> Option<tokio::time::Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let remaining_ms = i64::try_from(deadline_ms)
        .ok()?
        .saturating_sub(now_ms)
        .max(0);
    let remaining = std::time::Duration::from_millis(remaining_ms as u64);
    Some(tokio::time::Instant::now() + remaining.saturating_sub(RETURN_RESERVE))
}

/// CloudWatch embedded metric format: one log line, metrics extracted by
/// CloudWatch Logs with no API call (and no PutMetricData permission).
pub fn metrics_line(s: &Summary, timestamp_ms: i64) -> Value {
    let t = &s.totals;
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [
                    {"Name": "FailingStages", "Unit": "Count"},
                    {"Name": "PassingStages", "Unit": "Count"},
                    {"Name": "FindingsImported", "Unit": "Count"},
                    {"Name": "FindingsNotImported", "Unit": "Count"},
                    {"Name": "ScanErrors", "Unit": "Count"},
                    {"Name": "AccountsFailed", "Unit": "Count"},
                    {"Name": "PartialRuns", "Unit": "Count"}
                ]
            }]
        },
        "FailingStages": t.failing,
        "PassingStages": t.passing,
        "FindingsImported": t.findings_imported,
        "FindingsNotImported": t.findings_not_imported,
        "ScanErrors": t.errors,
        "AccountsFailed": t.accounts_failed,
        "PartialRuns": u8::from(s.status == RunStatus::Partial),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_run_ends_before_the_invocation_does() {
        let now_ms = 1_800_000_000_000;
        assert!(
            run_deadline(0, now_ms).is_none(),
            "no deadline in the context"
        );
        let d = run_deadline((now_ms + 60_000) as u64, now_ms).unwrap();
        let left = d - tokio::time::Instant::now();
        assert!(
            left <= Duration::from_secs(55) && left > Duration::from_secs(54),
            "{left:?}"
        );
        let past = run_deadline((now_ms - 1_000) as u64, now_ms).unwrap();
        assert!(past <= tokio::time::Instant::now());
    }
}
