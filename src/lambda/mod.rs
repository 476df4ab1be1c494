//! The Lambda adapter: one event type in ([`Event`], parsed into an
//! [`Invocation`]), one answer type out ([`Answer`]: the run's summary, or
//! the queue batch's `SqsBatchResponse`).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use aws_lambda_events::sqs::SqsBatchResponse;
use futures::future::BoxFuture;
use futures::FutureExt;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::{json, Value};
use tracing::{error, info, warn};

use crate::aws::AwsEnv;
use crate::config::{Config, RemediationMode};
use crate::model::AccountId;
use crate::remediate::decide::Requester;
use crate::remediate::{RemediateOptions, RemediationReport};
use crate::report::{chain, RunStatus, Summary};
use crate::scan::{self, ScanError, ScanOptions};
use crate::trigger::{parse_invocation, Event, Invocation, ScanRequest, Trigger, TriggerError};

/// Metric namespace of the embedded-metric-format log line.
pub const METRIC_NAMESPACE: &str = "apigw-tracing";

/// What the function answers.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// A scan, or a planning run (fan-out).
    Summary(Box<ScanAnswer>),
    /// A queue batch: the messages to deliver again.
    Batch(SqsBatchResponse),
    /// A Security Hub custom action: what was fixed, skipped or ignored.
    Remediation(Box<RemediationReport>),
}

/// A scan's summary and, with `auto` remediation, what was fixed after it.
#[derive(Debug, Serialize)]
pub struct ScanAnswer {
    #[serde(flatten)]
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<RemediationReport>,
}

#[derive(thiserror::Error)]
pub enum HandlerError {
    /// The event was refused before any AWS call.
    #[error("invalid event")]
    Event(#[from] TriggerError),
    /// The scan could not start: the request reaches outside the
    /// configuration, or no identity or account list.
    #[error("scan not started")]
    Scan(#[from] ScanError),
    /// A custom action while remediation is off: nothing is changed.
    #[error("remediation is off (APIGW_TRACING_REMEDIATION=off): the custom action changes nothing; set it to on-request or auto to allow it")]
    RemediationOff,
    #[error("invalid custom action event")]
    CustomAction(#[from] crate::remediate::CustomActionError),
    #[error("remediation not started")]
    Identity(#[source] crate::aws::accounts::AccountsError),
}

/// The runtime logs a failed invocation's error with `{:?}`: give it the
/// readable chain of causes, never a dump of the structures.
impl std::fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&chain(self))
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::Event(_)
            | HandlerError::Scan(ScanError::Scope(_))
            | HandlerError::CustomAction(_) => "InvalidEvent",
            HandlerError::Scan(_) | HandlerError::Identity(_) => "ScanNotStarted",
            HandlerError::RemediationOff => "RemediationDisabled",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: chain(&e),
        }
    }
}

mod queue;
mod react;

/// Built once per execution environment, borrowed by every invocation.
pub struct Handler {
    env: AwsEnv,
    cfg: Config,
    /// When this environment started: a deadline before it is not a time.
    started: SystemTime,
    warned_deadline: AtomicBool,
}

impl Handler {
    pub fn new(env: AwsEnv, cfg: Config) -> Self {
        Self {
            env,
            cfg,
            started: SystemTime::now(),
            warned_deadline: AtomicBool::new(false),
        }
    }

    /// Handles one event. A partial run still returns its summary (status
    /// `partial`): a retry by Lambda would not fix it, and the alarm on the
    /// PartialRuns metric tells the operator. Boxed: the future is large
    /// (Security Hub types) and must be provably `Send`.
    pub fn handle(&self, event: LambdaEvent<Event>) -> BoxFuture<'_, Result<Answer, HandlerError>> {
        self.handle_inner(event).boxed()
    }

    async fn handle_inner(&self, event: LambdaEvent<Event>) -> Result<Answer, HandlerError> {
        let LambdaEvent { payload, context } = event;
        let invocation = payload
            .0
            .map_err(TriggerError::NotJson)
            .and_then(|v| parse_invocation(&v))
            .inspect_err(|e| error!(error = %chain(e), "event refused"))?;
        match invocation {
            Invocation::Scan(req) => {
                info!(trigger = req.trigger.as_str(), "invocation");
                let opts = self.options(&context);
                let summary = self.scan(&req, opts).await?;
                let remediation = self.auto_remediate(&summary).await;
                Ok(Answer::Summary(Box::new(ScanAnswer {
                    summary,
                    remediation,
                })))
            }
            Invocation::Change(event) => {
                let summary = self.react(vec![event]).await?;
                Ok(Answer::Summary(Box::new(ScanAnswer {
                    summary,
                    remediation: None,
                })))
            }
            Invocation::CustomAction(event) => {
                info!(trigger = "custom_action", "invocation");
                if self.cfg.remediation == RemediationMode::Off {
                    error!("custom action refused: remediation is off");
                    return Err(HandlerError::RemediationOff);
                }
                let (targets, ignored) = crate::remediate::parse_custom_action(&event)?;
                let env = self.env.with_fresh_stats();
                let me = crate::aws::accounts::caller_identity(&env)
                    .await
                    .map_err(HandlerError::Identity)?;
                let opts = self.remediate_options(Requester::CustomAction, true);
                let report =
                    crate::remediate::custom_action(&env, &self.cfg, &me, targets, ignored, &opts)
                        .await;
                Ok(Answer::Remediation(Box::new(report)))
            }
            Invocation::Queue(batch) => {
                let batch = self.consume(LambdaEvent::new(batch, context)).await?;
                Ok(Answer::Batch(batch))
            }
        }
    }

    fn remediate_options(&self, requested_by: Requester, apply: bool) -> RemediateOptions {
        RemediateOptions {
            apply,
            stages: Vec::new(),
            requested_by,
            role_name: self.cfg.remediation_role_name.clone(),
        }
    }

    /// `auto`: after a scheduled scan (or a queue batch) that scanned here,
    /// fix the failing, non-exempt stages of the allowed accounts. A dry
    /// run stays a dry run.
    async fn auto_remediate(&self, summary: &Summary) -> Option<RemediationReport> {
        let scope = self.cfg.remediate_accounts.as_ref()?;
        let scheduled = matches!(summary.trigger, Trigger::Schedule { .. } | Trigger::Queue);
        if self.cfg.remediation != RemediationMode::Auto || !scheduled || summary.fan_out.is_some()
        {
            return None;
        }
        // Only accounts whose every region was scanned completely.
        let failed: BTreeSet<&str> = summary.errors.iter().map(|e| e.account.as_str()).collect();
        let mut targets: Vec<AccountId> = summary
            .results
            .iter()
            .filter(|r| !failed.contains(r.account.as_str()))
            .filter_map(|r| AccountId::parse(&r.account).ok())
            .filter(|a| scope.allows(a))
            .collect();
        targets.sort();
        targets.dedup();
        if targets.is_empty() {
            return None;
        }
        let plan = crate::plan::Plan {
            targets,
            skipped: Vec::new(),
            regions: summary.regions.clone(),
            fan_out: None,
            dry_run: summary.dry_run,
        };
        let env = self.env.with_fresh_stats();
        let me = crate::aws::accounts::caller_identity(&env).await.ok()?;
        let opts = self.remediate_options(Requester::Automatic, !summary.dry_run);
        Some(crate::remediate::run(&env, &self.cfg, &plan, &me, &opts).await)
    }

    fn options(&self, context: &Context) -> ScanOptions {
        ScanOptions {
            deadline: self.run_deadline(context.deadline()),
            start_margin: self.cfg.deadline_margin,
            ..ScanOptions::default()
        }
    }

    /// The instant the scan must be over: the invocation's deadline less the
    /// time needed to return. A deadline before this environment started is
    /// not an epoch time (`cargo lambda watch` sends a duration; a test
    /// context sends 0): it is ignored, with one warning.
    fn run_deadline(&self, deadline: SystemTime) -> Option<tokio::time::Instant> {
        if deadline < self.started {
            if !self.warned_deadline.swap(true, Ordering::Relaxed) {
                warn!("the invocation's deadline is not a plausible time (before the process started); running without one");
            }
            return None;
        }
        let remaining = deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        Some(tokio::time::Instant::now() + remaining.saturating_sub(RETURN_RESERVE))
    }

    async fn scan(&self, req: &ScanRequest, opts: ScanOptions) -> Result<Summary, ScanError> {
        // scan::run has logged the totals ("scan finished") and every
        // account-region and error on its own line; the full summary is the
        // answer (a log event holds at most 256 KB, an organization's
        // summary several MB).
        let out = scan::run(&self.env, &self.cfg, req, opts).await?;
        println!("{}", metrics_line(&out.summary, now_ms()));
        Ok(out.summary)
    }
}

/// Time kept after the run to log and return the summary.
const RETURN_RESERVE: Duration = Duration::from_secs(5);

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
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

/// Reports a configuration error found before the first event: one JSON log
/// line and Lambda's `/runtime/init/error` endpoint, so the console and the
/// `Errors` metric show the reason instead of a silent exit. Returns the
/// error for `main` to exit with.
pub async fn init_failed(e: crate::config::ConfigError) -> lambda_runtime::Error {
    use lambda_runtime_api_client::{body::Body, PooledClient};
    let message = chain(&e);
    error!(error_type = "Runtime.ConfigError", error = %message, "configuration refused; the function cannot start");
    let body = json!({"errorType": "Runtime.ConfigError", "errorMessage": message}).to_string();
    let request = http::Request::builder()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.ConfigError")
        .header("content-type", "application/json")
        .body(Body::from(body));
    match request {
        Ok(req) => {
            if let Err(sent) = PooledClient::builder().build().call(req).await {
                error!(error = %sent, "could not report the init error to the Runtime API");
            }
        }
        Err(bad) => error!(error = %bad, "could not build the init error report"),
    }
    message.into()
}
