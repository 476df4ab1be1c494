//! Settings: one definition serves the CLI flags and the environment
//! variables the Lambda function is configured with (clap reads both).

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::{ArgAction, Args};

use std::sync::Arc;

use crate::exempt::{Rules, RulesError};
use crate::model::{
    parse_accounts, parse_regions, quote, AccountId, InvalidAccountId, InvalidRegion,
};

pub const DEFAULT_ROLE_NAME: &str = "apigw-tracing-scan";
pub const DEFAULT_SESSION_NAME: &str = "apigw-tracing";
pub const DEFAULT_REMEDIATION_ROLE_NAME: &str = "apigw-tracing-remediate";

/// What the Lambda function may fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RemediationMode {
    Off,
    OnRequest,
    Auto,
}

/// The accounts `auto` remediation may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemediateScope {
    /// `*`: every scanned account.
    All,
    Only(BTreeSet<AccountId>),
}

impl RemediateScope {
    pub fn allows(&self, account: &AccountId) -> bool {
        match self {
            RemediateScope::All => true,
            RemediateScope::Only(set) => set.contains(account),
        }
    }
}

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

    /// Timeout of one attempt of one AWS request, in seconds.
    #[arg(long, env = "APIGW_TRACING_ATTEMPT_TIMEOUT_SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub attempt_timeout_secs: u64,
}

/// Where the accounts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSource {
    /// Every ACTIVE account of the organization (ListAccounts).
    Organization,
    /// Exactly these accounts.
    Fixed(Vec<AccountId>),
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub accounts: AccountSource,
    pub exclude: BTreeSet<AccountId>,
    /// Empty: use the region of the AWS configuration.
    pub regions: Vec<String>,
    pub role_name: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub dry_run: bool,
    pub apigw_rps: NonZeroU32,
    pub securityhub_rps: NonZeroU32,
    pub concurrency: usize,
    pub max_attempts: u32,
    pub attempt_timeout: Duration,
    pub deadline_margin: Duration,
    pub exemptions: Arc<Rules>,
    pub queue_url: Option<String>,
    pub fan_out_above: usize,
    pub remediation: RemediationMode,
    /// Required with `auto`.
    pub remediate_accounts: Option<RemediateScope>,
    pub remediation_role_name: String,
}

/// A setting by both its names: `--role-name (APIGW_TRACING_ROLE_NAME)`.
/// Every variable is the flag's name, upper-cased, after `APIGW_TRACING_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting(pub &'static str);

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--{} (APIGW_TRACING_{})",
            self.0,
            self.0.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// A setting refused. Each message names the setting (flag and
/// environment variable) and the rule it breaks.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{setting}")]
    Account {
        setting: Setting,
        #[source]
        source: InvalidAccountId,
    },
    #[error("{setting}")]
    Region {
        setting: Setting,
        #[source]
        source: InvalidRegion,
    },
    #[error("{}: {} is not a valid IAM role name (1-64 of letters, digits and +=,.@_-)", Setting("role-name"), quote(.0))]
    RoleName(String),
    #[error("{}: must be 2-1224 of letters, digits and +=,.@:/_- (got {len} characters); leave it empty or unset for none", Setting("external-id"), len = .0)]
    ExternalId(usize),
    #[error("{}: {} is not valid (2-64 of letters, digits and +=,.@_-)", Setting("session-name"), quote(.0))]
    SessionName(String),
    #[error("{}", Setting("exemptions"))]
    Exemptions(#[source] RulesError),
    #[error("{}: {} is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)", Setting("queue-url"), quote(.0))]
    QueueUrl(String),
    #[error("{}: auto remediation needs the accounts it may change (comma-separated ids, or * for every scanned account, written out)", Setting("remediate-accounts"))]
    RemediateAccountsRequired,
    #[error(
        "{}: * stands alone (every scanned account), not in a list",
        Setting("remediate-accounts")
    )]
    RemediateAccountsMixed,
    #[error("{}: {} is not a valid IAM role name (1-64 of letters, digits and +=,.@_-)", Setting("remediation-role-name"), quote(.0))]
    RemediationRoleName(String),
    /// A value clap could not read (a number that is not one, out of range).
    #[error("{setting}: {reason}")]
    Value { setting: String, reason: String },
}

impl ConfigError {
    /// A clap error, as one line naming the setting.
    pub fn from_clap(e: &clap::Error) -> Self {
        use clap::error::{ContextKind, ContextValue};
        let arg = match e.get(ContextKind::InvalidArg) {
            Some(ContextValue::String(s)) => s.clone(),
            _ => String::new(),
        };
        // "--apigw-rps <APIGW_RPS>" -> "apigw-rps"
        let long = arg
            .trim_start_matches('-')
            .split([' ', '='])
            .next()
            .unwrap_or_default()
            .to_owned();
        let setting = if long.is_empty() {
            "setting".to_owned()
        } else {
            format!(
                "--{long} (APIGW_TRACING_{})",
                long.to_ascii_uppercase().replace('-', "_")
            )
        };
        let reason = e
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned();
        ConfigError::Value { setting, reason }
    }
}

/// Settings from the environment alone (the Lambda function's way).
#[derive(Debug, clap::Parser)]
#[command(name = "apigw-tracing-lambda", no_binary_name = true)]
struct FromEnv {
    #[command(flatten)]
    args: ScanArgs,
}

impl ScanArgs {
    /// Reads every setting from its environment variable.
    pub fn from_env() -> Result<Self, clap::Error> {
        use clap::Parser;
        FromEnv::try_parse_from(std::iter::empty::<String>()).map(|f| f.args)
    }

    /// Reads settings from flag-style arguments (no program name), the
    /// environment filling what they do not set.
    pub fn from_args<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<Self, clap::Error> {
        use clap::Parser;
        FromEnv::try_parse_from(args).map(|f| f.args)
    }

    /// Reads and validates every setting from the environment.
    pub fn from_env_checked() -> Result<Config, ConfigError> {
        Self::from_env()
            .map_err(|e| ConfigError::from_clap(&e))?
            .validate()
    }

    pub fn validate(&self) -> Result<Config, ConfigError> {
        let account_list = |raw: &[String], name| {
            parse_accounts(raw).map_err(|source| ConfigError::Account {
                setting: Setting(name),
                source,
            })
        };
        let accounts = account_list(&self.accounts, "accounts")?;
        let exclude = account_list(&self.exclude_accounts, "exclude-accounts")?;
        let regions = parse_regions(&self.regions).map_err(|source| ConfigError::Region {
            setting: Setting("regions"),
            source,
        })?;
        // Empty means unset (a template passes "" for "no external id").
        let external_id = self.external_id.clone().filter(|s| !s.is_empty());
        if !is_iam_name(&self.role_name, 1, 64, "") {
            return Err(ConfigError::RoleName(self.role_name.clone()));
        }
        if let Some(ext) = &external_id {
            if !is_iam_name(ext, 2, 1224, ":/") {
                return Err(ConfigError::ExternalId(ext.len()));
            }
        }
        if !is_iam_name(&self.session_name, 2, 64, "") {
            return Err(ConfigError::SessionName(self.session_name.clone()));
        }
        let exemptions = Arc::new(Rules::parse(&self.exemptions).map_err(ConfigError::Exemptions)?);
        let queue_url = self.queue_url.clone().filter(|q| !q.trim().is_empty());
        if let Some(q) = &queue_url {
            if !(q.starts_with("https://") || q.starts_with("http://")) {
                return Err(ConfigError::QueueUrl(q.clone()));
            }
        }
        if !is_iam_name(&self.remediation_role_name, 1, 64, "") {
            return Err(ConfigError::RemediationRoleName(
                self.remediation_role_name.clone(),
            ));
        }
        let listed: Vec<String> = self
            .remediate_accounts
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let remediate_accounts = if listed.iter().any(|s| s == "*") {
            if listed.len() > 1 {
                return Err(ConfigError::RemediateAccountsMixed);
            }
            Some(RemediateScope::All)
        } else if listed.is_empty() {
            None
        } else {
            Some(RemediateScope::Only(
                account_list(&listed, "remediate-accounts")?
                    .into_iter()
                    .collect(),
            ))
        };
        if self.remediation == RemediationMode::Auto && remediate_accounts.is_none() {
            return Err(ConfigError::RemediateAccountsRequired);
        }
        Ok(Config {
            accounts: if accounts.is_empty() {
                AccountSource::Organization
            } else {
                AccountSource::Fixed(accounts)
            },
            exclude: exclude.into_iter().collect(),
            regions,
            role_name: self.role_name.clone(),
            external_id,
            session_name: self.session_name.clone(),
            dry_run: self.dry_run,
            apigw_rps: self.apigw_rps,
            securityhub_rps: self.securityhub_rps,
            concurrency: usize::from(self.concurrency),
            max_attempts: self.max_attempts,
            attempt_timeout: Duration::from_secs(self.attempt_timeout_secs),
            deadline_margin: Duration::from_secs(self.deadline_margin_secs),
            exemptions,
            queue_url,
            fan_out_above: self.fan_out_above,
            remediation: self.remediation,
            remediate_accounts,
            remediation_role_name: self.remediation_role_name.clone(),
        })
    }
}

/// IAM's name alphabet: letters, digits and `+=,.@_-`, plus `extra`.
fn is_iam_name(s: &str, min: usize, max: usize, extra: &str) -> bool {
    (min..=max).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) || extra.contains(c))
}

#[cfg(test)]
pub(crate) mod tests;
