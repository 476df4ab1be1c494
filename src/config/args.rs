//! Every setting as a flag and an environment variable (clap reads both);
//! `ScanArgs::validate` turns them into a [`super::Config`].

use std::num::NonZeroU32;

use clap::{ArgAction, Args};

use super::{
    CostMode, RemediationMode, SamplingMode, TracePathMode, DEFAULT_REMEDIATION_ROLE_NAME,
    DEFAULT_ROLE_NAME, DEFAULT_SESSION_NAME,
};

/// Every setting of a scan. Each has a flag and an environment variable; the
/// Lambda function reads only the environment.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Scan only these account ids (comma-separated) instead of every ACTIVE
    /// account that AWS Organizations lists.
    #[arg(long, env = "APIGW_TRACING_ACCOUNTS", value_delimiter = ',')]
    pub accounts: Vec<String>,

    /// Never scan these account ids (comma-separated).
    #[arg(long, env = "APIGW_TRACING_EXCLUDE_ACCOUNTS", value_delimiter = ',')]
    pub exclude_accounts: Vec<String>,

    /// Regions to scan (comma-separated). Default: the region of the AWS
    /// configuration (AWS_REGION).
    #[arg(long, env = "APIGW_TRACING_REGIONS", value_delimiter = ',')]
    pub regions: Vec<String>,

    /// Role assumed in every member account (not in the scanner's own).
    #[arg(long, env = "APIGW_TRACING_ROLE_NAME", default_value = DEFAULT_ROLE_NAME)]
    pub role_name: String,

    /// ExternalId passed to sts:AssumeRole, when the member role requires one.
    #[arg(long, env = "APIGW_TRACING_EXTERNAL_ID")]
    pub external_id: Option<String>,

    /// Role session name; shows in the members' CloudTrail.
    #[arg(long, env = "APIGW_TRACING_SESSION_NAME", default_value = DEFAULT_SESSION_NAME)]
    pub session_name: String,

    /// Scan and build findings but send nothing to Security Hub.
    #[arg(long, env = "APIGW_TRACING_DRY_RUN", action = ArgAction::SetTrue)]
    pub dry_run: bool,

    /// Maximum API Gateway requests per second to one account and region. The
    /// control plane allows 10 (not adjustable), shared with the account's
    /// own deployments.
    #[arg(long, env = "APIGW_TRACING_APIGW_RPS", default_value_t = NonZeroU32::new(5).unwrap())]
    pub apigw_rps: NonZeroU32,

    /// Maximum Security Hub requests per second to one account and region
    /// (BatchImportFindings allows 10, burst 30).
    #[arg(long, env = "APIGW_TRACING_SECURITYHUB_RPS", default_value_t = NonZeroU32::new(5).unwrap())]
    pub securityhub_rps: NonZeroU32,

    /// Account-regions scanned at the same time.
    #[arg(long, env = "APIGW_TRACING_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Attempts per AWS request (first try included) before it is reported as
    /// failed; throttling and 5xx are retried with exponential backoff.
    #[arg(long, env = "APIGW_TRACING_MAX_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,

    /// Exemptions for teams that cannot tag their stages: a JSON array of
    /// {"stage": "<stage ARN or account/apiId/stage, * wildcards>",
    /// "reason": "...", "until": "YYYY-MM-DD"} ("until" optional).
    #[arg(long, env = "APIGW_TRACING_EXEMPTIONS", default_value = "")]
    pub exemptions: String,

    /// Fan-out queue (SQS URL). When set, a scheduled or manual Lambda run
    /// that covers more than --fan-out-above accounts only plans: one message
    /// per account; the function scans them as it consumes the queue.
    #[arg(long, env = "APIGW_TRACING_QUEUE_URL")]
    pub queue_url: Option<String>,

    /// Fan out (with a queue) only above this many accounts.
    #[arg(long, env = "APIGW_TRACING_FAN_OUT_ABOVE", default_value_t = 0)]
    pub fan_out_above: usize,

    /// Lambda: stop starting account-regions this many seconds before the
    /// invocation's deadline (what is left is reported as not scanned).
    #[arg(long, env = "APIGW_TRACING_DEADLINE_MARGIN_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub deadline_margin_secs: u64,

    /// Lambda: what the function may fix. off; on-request (a Security Hub
    /// custom action); auto (also after each scheduled scan, in the
    /// accounts of --remediate-accounts).
    #[arg(long, env = "APIGW_TRACING_REMEDIATION", value_enum, default_value_t = RemediationMode::Off)]
    pub remediation: RemediationMode,

    /// Lambda, auto: the accounts whose failing stages are fixed after each
    /// scan (comma-separated); `*` means every scanned account and must be
    /// written out.
    #[arg(long, env = "APIGW_TRACING_REMEDIATE_ACCOUNTS", value_delimiter = ',')]
    pub remediate_accounts: Vec<String>,

    /// The member role remediation writes through (separate from the
    /// read-only scan role).
    #[arg(long, env = "APIGW_TRACING_REMEDIATION_ROLE_NAME", default_value = DEFAULT_REMEDIATION_ROLE_NAME)]
    pub remediation_role_name: String,

    /// Follow each traced stage to the Lambda functions and authorizers
    /// behind it, and keep one trace-path finding per traced stage (off or
    /// on; the bare flag means on). Costs one GetResources per API with a
    /// traced stage (5 every 2 s per account, shared with the account's own
    /// deployments), one GetAuthorizers where its methods use an authorizer,
    /// and one GetFunctionConfiguration per distinct function. With
    /// `remediate`: fix those functions instead of stages.
    #[arg(long, env = "APIGW_TRACING_TRACE_PATH", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = TracePathMode::Off)]
    pub trace_path: TracePathMode,

    /// Judge the X-Ray sampling rules of each account-region with a traced
    /// stage, and keep one sampling finding per traced stage (on by
    /// default; off leaves those findings exactly as they are). Costs one
    /// GetSamplingRules and one GetSamplingStatisticSummaries per such
    /// account-region (paged), through the scan role.
    #[arg(long, env = "APIGW_TRACING_SAMPLING", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = SamplingMode::On)]
    pub sampling: SamplingMode,

    /// Price the fix of each FAILED stage: its finding's remediation text and
    /// ProductFields (EstimatedTracesPerMonth, EstimatedUsdPerMonth) carry
    /// what tracing it would cost. Needs cloudwatch:GetMetricData and
    /// xray:GetTraceSegmentDestination in the member role (the stack's Cost
    /// switch); costs one GetMetricData per 500 such stages per
    /// account-region.
    #[arg(long, env = "APIGW_TRACING_COST", value_enum, num_args = 0..=1, default_missing_value = "on", default_value_t = CostMode::Off)]
    pub cost: CostMode,

    /// X-Ray's price for traces recorded, USD per million (estimates).
    /// Prices differ by region and change: set yours.
    #[arg(long, env = "APIGW_TRACING_PRICE_PER_MILLION_TRACES", default_value_t = crate::cost::DEFAULT_PRICE_PER_MILLION, value_parser = non_negative)]
    pub price_per_million_traces: f64,

    /// X-Ray's free traces recorded per month (estimates): applied once, to
    /// the overall total (an organization on consolidated billing shares one).
    #[arg(long, env = "APIGW_TRACING_FREE_TRACES_PER_MONTH", default_value_t = crate::cost::DEFAULT_FREE_TRACES, value_parser = non_negative)]
    pub free_traces_per_month: f64,

    /// Timeout of one attempt of one AWS request, in seconds.
    #[arg(long, env = "APIGW_TRACING_ATTEMPT_TIMEOUT_SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub attempt_timeout_secs: u64,

    /// Timeout of one attempt in milliseconds; overrides
    /// --attempt-timeout-secs when set (tests use short ones).
    #[arg(long, env = "APIGW_TRACING_ATTEMPT_TIMEOUT_MS", value_parser = clap::value_parser!(u64).range(10..=300_000))]
    pub attempt_timeout_ms: Option<u64>,

    /// First retry backoff in milliseconds (throttling, 5xx, timeouts); it
    /// doubles per attempt, with jitter, up to 20 s.
    #[arg(long, env = "APIGW_TRACING_RETRY_BASE_MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=20_000))]
    pub retry_base_ms: u64,
}

impl ScanArgs {
    pub(super) fn attempt_timeout_ms(&self) -> u64 {
        self.attempt_timeout_ms
            .unwrap_or(self.attempt_timeout_secs * 1000)
    }
}

/// A price or a count: a finite number of 0 or more.
fn non_negative(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{text:?} is not a number of 0 or more")),
    }
}
