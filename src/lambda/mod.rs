//! The Lambda adapter: one event type in ([`Event`], parsed into an
//! [`Invocation`]), one answer type out ([`Answer`]: the run's summary, or
//! the queue batch's `SqsBatchResponse`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use aws_lambda_events::sqs::SqsBatchResponse;
use futures::future::BoxFuture;
use futures::FutureExt;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::{json, Value};
use tracing::{error, info, warn};

use crate::asff::Finding;
use crate::aws::pacing::Pacers;
use crate::aws::AwsEnv;
use crate::config::{Config, RemediationMode};
use crate::evaluate::Evaluation;
use crate::remediate::decide::Requester;
use crate::remediate::{RemediateOptions, RemediationReport, Remediator};
use crate::report::{chain, RunStatus, Summary};
use crate::scan::{self, ScanError, ScanOptions, ScanOutput};
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
            HandlerError::Event(_) | HandlerError::Scan(ScanError::Scope(_)) => "InvalidEvent",
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
        let opts = self.options(&context);
        match invocation {
            Invocation::Scan(req) => {
                info!(trigger = req.trigger.as_str(), "invocation");
                let (summary, remediation) = self.scan(&req, opts).await?;
                Ok(Answer::Summary(Box::new(ScanAnswer {
                    summary,
                    remediation,
                })))
            }
            Invocation::Change(change) => {
                let summary = crate::react::react(&self.env, &self.cfg, vec![change], opts).await?;
                Ok(Answer::Summary(Box::new(ScanAnswer {
                    summary,
                    remediation: None,
                })))
            }
            Invocation::CustomAction(event) => {
                info!(trigger = "custom_action", "invocation");
                if self.cfg.remediation.mode == RemediationMode::Off {
                    error!("custom action refused: remediation is off");
                    return Err(HandlerError::RemediationOff);
                }
                // A function configured for dry runs reports what the
                // action would change and changes nothing.
                let writing = self
                    .writing(Requester::CustomAction, !self.cfg.dry_run)
                    .await
                    .map_err(HandlerError::Identity)?;
                let report =
                    crate::remediate::custom_action(&writing.remediator(&self.cfg), event).await;
                Ok(Answer::Remediation(Box::new(report)))
            }
            Invocation::Queue(batch) => {
                let batch = self.consume(LambdaEvent::new(batch, context)).await?;
                Ok(Answer::Batch(batch))
            }
        }
    }

    /// `auto`, after a scheduled scan (or a queue batch) that scanned here:
    /// the failing, non-exempt stages of the allowed accounts, handed over
    /// by the scan, are fixed. A dry run stays a dry run.
    async fn auto_remediate(
        &self,
        summary: &Summary,
        failing: Vec<(Evaluation, Finding)>,
    ) -> Option<RemediationReport> {
        let scope = self.auto_scope(&summary.trigger)?;
        if summary.fan_out.is_some() {
            return None;
        }
        let plan = crate::remediate::auto_plan(summary, failing, scope);
        if plan.is_empty() {
            return None;
        }
        let writing = self
            .writing(Requester::Automatic, !summary.dry_run)
            .await
            .ok()?;
        Some(crate::remediate::apply_plan(&writing.remediator(&self.cfg), plan).await)
    }

    /// What a remediation of this invocation runs with: its own request
    /// counts, who we are (cached), its own pacers.
    async fn writing(
        &self,
        requested_by: Requester,
        apply: bool,
    ) -> Result<Writing, crate::aws::accounts::AccountsError> {
        let env = self.env.with_fresh_stats();
        let me = crate::aws::accounts::caller_identity(&env).await?;
        Ok(Writing {
            env,
            me,
            pacers: Pacers::new(self.cfg.limits.apigw_rps, self.cfg.limits.securityhub_rps),
            opts: RemediateOptions {
                apply,
                stages: Vec::new(),
                requested_by,
                // Priced where the member roles may read traffic (the
                // stack's Cost switch, APIGW_TRACING_COST=on).
                prices: (self.cfg.cost == crate::config::CostMode::On).then_some(self.cfg.prices),
            },
        })
    }

    /// The accounts `auto` may fix after a run of this trigger, if any.
    fn auto_scope(&self, trigger: &Trigger) -> Option<&crate::config::RemediateScope> {
        let scheduled = matches!(trigger, Trigger::Schedule { .. } | Trigger::Queue);
        (self.cfg.remediation.mode == RemediationMode::Auto && scheduled)
            .then_some(self.cfg.remediation.accounts.as_ref())
            .flatten()
    }

    fn options(&self, context: &Context) -> ScanOptions {
        ScanOptions {
            deadline: self.run_deadline(context.deadline()),
            start_margin: self.cfg.limits.deadline_margin,
            ..ScanOptions::default()
        }
    }
}

/// A remediation's environment, identity, pacers and options.
struct Writing {
    env: AwsEnv,
    me: crate::model::Identity,
    pacers: Pacers,
    opts: RemediateOptions,
}

impl Writing {
    fn remediator<'a>(&'a self, cfg: &'a Config) -> Remediator<'a> {
        Remediator {
            env: &self.env,
            cfg,
            me: &self.me,
            opts: &self.opts,
            pacers: &self.pacers,
        }
    }
}

impl Handler {
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

    /// One scan, then `auto` remediation of what it handed over.
    async fn scan(
        &self,
        req: &ScanRequest,
        mut opts: ScanOptions,
    ) -> Result<(Summary, Option<RemediationReport>), ScanError> {
        opts.hand_over = self.auto_scope(&req.trigger).cloned();
        // scan::run has logged the totals ("scan finished") and every
        // account-region and error on its own line; the full summary is the
        // answer (a log event holds at most 256 KB, an organization's
        // summary several MB).
        let ScanOutput {
            summary, failing, ..
        } = scan::run(&self.env, &self.cfg, req, opts).await?;
        println!("{}", metrics_line(&summary, now_ms()));
        let remediation = self.auto_remediate(&summary, failing).await;
        Ok((summary, remediation))
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
                    {"Name": "PartialRuns", "Unit": "Count"},
                    {"Name": "FailingTracePaths", "Unit": "Count"},
                    {"Name": "SamplingFailed", "Unit": "Count"},
                    {"Name": "SamplingWarning", "Unit": "Count"},
                    {"Name": "SamplingUnknown", "Unit": "Count"}
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
        // 0 with the trace path off.
        "FailingTracePaths": t.paths_failed,
        // 0 with sampling off.
        "SamplingFailed": t.sampling_failed,
        "SamplingWarning": t.sampling_warning,
        "SamplingUnknown": t.sampling_unknown,
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
