//! The Lambda handler: event in, scan, summary out.

use lambda_runtime::Diagnostic;
use serde_json::{json, Value};
use tracing::{error, info};

use crate::aws::AwsEnv;
use crate::config::Config;
use crate::report::{RunStatus, Summary};
use crate::scan::{self, ScanError, ScanOptions};
use crate::trigger::{parse_event, TriggerError};

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
    pub fn handle(
        &self,
        event: Value,
    ) -> futures::future::BoxFuture<'_, Result<Value, HandlerError>> {
        use futures::FutureExt;
        self.handle_inner(event).boxed()
    }

    async fn handle_inner(&self, event: Value) -> Result<Value, HandlerError> {
        let req = parse_event(&event).inspect_err(|e| error!(error = %e, "event refused"))?;
        info!(trigger = ?req.trigger, "invocation");
        let out = scan::run(&self.env, &self.cfg, &req, ScanOptions::default()).await?;
        println!(
            "{}",
            metrics_line(&out.summary, chrono::Utc::now().timestamp_millis())
        );
        Ok(serde_json::to_value(&out.summary).expect("summary serialises"))
    }
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
