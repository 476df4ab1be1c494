//! Settings: one definition serves the CLI flags and the environment
//! variables the Lambda function is configured with (clap reads both).

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::time::Duration;

use std::sync::Arc;

use crate::exempt::{Rules, RulesError};
use crate::model::{
    parse_accounts, parse_regions, quote, AccountId, InvalidAccountId, InvalidRegion, Region,
};

mod args;
pub use args::ScanArgs;

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

/// Whether the scan follows each traced stage's path to its functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TracePathMode {
    #[default]
    Off,
    On,
}

/// Whether the scan judges each traced stage's X-Ray sampling rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SamplingMode {
    Off,
    #[default]
    On,
}

/// Whether the scan prices the fix of each FAILED stage (its finding's
/// remediation text and `ProductFields` carry the estimate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CostMode {
    #[default]
    Off,
    On,
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

/// Where the accounts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSource {
    /// Every ACTIVE account of the organization (ListAccounts).
    Organization,
    /// Exactly these accounts.
    Fixed(Vec<AccountId>),
}

/// Validated settings, grouped so each part goes where it is used.
#[derive(Debug, Clone)]
pub struct Config {
    pub accounts: AccountSource,
    pub exclude: BTreeSet<AccountId>,
    /// Empty: use the region of the AWS configuration.
    pub regions: Vec<Region>,
    pub assume: AssumeRole,
    pub dry_run: bool,
    pub limits: Limits,
    pub exemptions: Arc<Rules>,
    pub fan_out: FanOut,
    pub remediation: Remediation,
    /// Trace-path findings (and, for `remediate`, fixing the functions).
    pub trace_path: TracePathMode,
    /// Sampling findings: whether the X-Ray sampling rules record each
    /// traced stage.
    pub sampling: SamplingMode,
    /// Estimates on FAILED stage findings (`scan --cost on`).
    pub cost: CostMode,
    /// X-Ray's price for traces recorded, and its monthly free tier.
    pub prices: crate::cost::Prices,
}

/// How the scanner reaches a member account.
#[derive(Debug, Clone)]
pub struct AssumeRole {
    /// The read-only scan role, in every member account.
    pub role_name: String,
    pub external_id: Option<String>,
    pub session_name: String,
}

/// Rates, concurrency, retries and time limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub apigw_rps: NonZeroU32,
    pub securityhub_rps: NonZeroU32,
    pub concurrency: usize,
    pub max_attempts: u32,
    pub attempt_timeout: Duration,
    /// First retry backoff; it doubles per attempt (with jitter), up to 20 s.
    pub retry_base: Duration,
    pub deadline_margin: Duration,
}

/// Fan-out over the queue, for organizations too large for one invocation.
#[derive(Debug, Clone)]
pub struct FanOut {
    pub queue_url: Option<String>,
    pub above: usize,
}

/// What the Lambda function may fix, where, and through which role.
#[derive(Debug, Clone)]
pub struct Remediation {
    pub mode: RemediationMode,
    /// Required with `auto`.
    pub accounts: Option<RemediateScope>,
    pub role_name: String,
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
            assume: AssumeRole {
                role_name: self.role_name.clone(),
                external_id,
                session_name: self.session_name.clone(),
            },
            dry_run: self.dry_run,
            limits: Limits {
                apigw_rps: self.apigw_rps,
                securityhub_rps: self.securityhub_rps,
                concurrency: usize::from(self.concurrency),
                max_attempts: self.max_attempts,
                attempt_timeout: Duration::from_millis(self.attempt_timeout_ms()),
                retry_base: Duration::from_millis(self.retry_base_ms),
                deadline_margin: Duration::from_secs(self.deadline_margin_secs),
            },
            exemptions,
            fan_out: FanOut {
                queue_url,
                above: self.fan_out_above,
            },
            remediation: Remediation {
                mode: self.remediation,
                accounts: remediate_accounts,
                role_name: self.remediation_role_name.clone(),
            },
            trace_path: self.trace_path,
            sampling: self.sampling,
            cost: self.cost,
            prices: crate::cost::Prices {
                per_million: self.price_per_million_traces,
                free_per_month: self.free_traces_per_month,
            },
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
