//! Settings: one definition serves the CLI flags and the environment
//! variables the Lambda function is configured with (clap reads both).

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::{ArgAction, Args};

use std::sync::Arc;

use crate::exempt::{Rules, RulesError};
use crate::model::{AccountId, InvalidAccountId};

pub const DEFAULT_ROLE_NAME: &str = "apigw-tracing-scan";
pub const DEFAULT_SESSION_NAME: &str = "apigw-tracing";

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
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{setting}: {source}")]
    Account {
        setting: &'static str,
        #[source]
        source: InvalidAccountId,
    },
    #[error("{setting}: {source}")]
    Region {
        setting: &'static str,
        #[source]
        source: InvalidRegion,
    },
    #[error("role name {0:?} is not a valid IAM role name (1-64 of letters, digits and +=,.@_-)")]
    RoleName(String),
    #[error("external id must be 2-1224 of letters, digits and +=,.@:/_- (got {0} characters)")]
    ExternalId(usize),
    #[error("session name {0:?} is not valid (2-64 of letters, digits and +=,.@_-)")]
    SessionName(String),
    #[error("exemptions (APIGW_TRACING_EXEMPTIONS): {0}")]
    Exemptions(#[from] RulesError),
    #[error("queue URL {0:?} is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)")]
    QueueUrl(String),
    #[error("no region to scan: set APIGW_TRACING_REGIONS (or --regions), or AWS_REGION")]
    NoRegion,
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

    pub fn validate(&self) -> Result<Config, ConfigError> {
        let accounts = parse_accounts(&self.accounts, "accounts")?;
        let exclude = parse_accounts(&self.exclude_accounts, "exclude-accounts")?;
        let regions = parse_regions(&self.regions, "regions")?;
        if !is_iam_name(&self.role_name, 1, 64, "") {
            return Err(ConfigError::RoleName(self.role_name.clone()));
        }
        if let Some(ext) = &self.external_id {
            if !is_iam_name(ext, 2, 1224, ":/") {
                return Err(ConfigError::ExternalId(ext.len()));
            }
        }
        if !is_iam_name(&self.session_name, 2, 64, "") {
            return Err(ConfigError::SessionName(self.session_name.clone()));
        }
        let exemptions = Arc::new(Rules::parse(&self.exemptions)?);
        let queue_url = self.queue_url.clone().filter(|q| !q.trim().is_empty());
        if let Some(q) = &queue_url {
            if !(q.starts_with("https://") || q.starts_with("http://")) {
                return Err(ConfigError::QueueUrl(q.clone()));
            }
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
            external_id: self.external_id.clone().filter(|s| !s.is_empty()),
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
        })
    }
}

/// Parses a list of account ids, dropping blanks and duplicates (keeps order).
pub fn parse_accounts(
    raw: &[String],
    setting: &'static str,
) -> Result<Vec<AccountId>, ConfigError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for item in raw.iter().filter(|s| !s.trim().is_empty()) {
        let id =
            AccountId::parse(item).map_err(|source| ConfigError::Account { setting, source })?;
        if seen.insert(id.clone()) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Parses a list of region names, dropping blanks and duplicates (keeps order).
pub fn parse_regions(raw: &[String], setting: &'static str) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for item in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        validate_region(item).map_err(|source| ConfigError::Region { setting, source })?;
        if !out.iter().any(|r| r == item) {
            out.push(item.to_owned());
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRegion {
    #[error("{0:?} is not a region name (expected something like eu-west-1)")]
    Malformed(String),
    #[error("{0:?} is not a known AWS region where API Gateway and Security Hub run")]
    Unknown(String),
}

/// Regions API Gateway and Security Hub both serve. A name outside this list
/// is refused before any AWS call, so a typo never turns into a silent
/// "0 stages" result or a DNS error per account.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

pub fn validate_region(name: &str) -> Result<(), InvalidRegion> {
    let well_formed = {
        let parts: Vec<&str> = name.split('-').collect();
        parts.len() >= 3
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty()
    };
    if !well_formed {
        return Err(InvalidRegion::Malformed(name.to_owned()));
    }
    if !KNOWN_REGIONS.contains(&name) {
        return Err(InvalidRegion::Unknown(name.to_owned()));
    }
    Ok(())
}

/// IAM's name alphabet: letters, digits and `+=,.@_-`, plus `extra`.
fn is_iam_name(s: &str, min: usize, max: usize, extra: &str) -> bool {
    (min..=max).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) || extra.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ScanArgs,
    }

    fn parse(argv: &[&str]) -> Result<Config, ConfigError> {
        let mut full = vec!["test"];
        full.extend_from_slice(argv);
        Cli::try_parse_from(full).unwrap().args.validate()
    }

    #[test]
    fn defaults_scan_the_organization_with_the_default_role() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.accounts, AccountSource::Organization);
        assert_eq!(c.role_name, "apigw-tracing-scan");
        assert_eq!(c.apigw_rps.get(), 5);
        assert!(!c.dry_run);
        assert!(c.regions.is_empty());
    }

    #[test]
    fn lists_are_split_trimmed_and_deduplicated() {
        let c = parse(&[
            "--accounts",
            "111111111111, 222222222222,111111111111,",
            "--regions",
            "eu-west-1,us-east-1,eu-west-1",
        ])
        .unwrap();
        let ids: Vec<_> = match c.accounts {
            AccountSource::Fixed(v) => v.into_iter().map(String::from).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(ids, ["111111111111", "222222222222"]);
        assert_eq!(c.regions, ["eu-west-1", "us-east-1"]);
    }

    #[test]
    fn bad_values_are_rejected_with_the_setting_named() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["--accounts", "12345"],
                "accounts: invalid AWS account id \"12345\"",
            ),
            (
                &["--exclude-accounts", "abcdefghijkl"],
                "exclude-accounts: invalid AWS account id",
            ),
            (
                &["--regions", "EU_WEST_1"],
                "regions: \"EU_WEST_1\" is not a region name",
            ),
            (
                &["--regions", "eu-west-9"],
                "regions: \"eu-west-9\" is not a known AWS region",
            ),
            (&["--role-name", "bad role"], "role name \"bad role\""),
            (&["--external-id", "x"], "external id"),
            (&["--session-name", "a"], "session name"),
            (
                &["--exemptions", "[{\"stage\": \"a/b/c\"}]"],
                "exemptions (APIGW_TRACING_EXEMPTIONS)",
            ),
        ];
        for (argv, want) in cases {
            let err = parse(argv).unwrap_err().to_string();
            assert!(err.contains(want), "{argv:?}: {err}");
        }
    }

    #[test]
    fn region_validation() {
        assert!(validate_region("us-gov-west-1").is_ok());
        assert!(validate_region("ap-southeast-7").is_ok());
        for bad in ["", "eu-west", "eu--1", "eu-west-1a", "1-2-3", "eu-west-1 "] {
            assert!(
                matches!(validate_region(bad), Err(InvalidRegion::Malformed(_))),
                "{bad:?}"
            );
        }
    }
}
