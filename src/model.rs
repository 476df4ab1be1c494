//! The project's own types. Adapters (inventory, accounts, publish) convert
//! SDK output into these, so the pure core never sees an SDK struct.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most characters of an input a message repeats: a 5 MB value must not
/// turn into a 5 MB error answer or log line.
pub const QUOTE_MAX: usize = 100;

/// `s` quoted for a message, cut to [`QUOTE_MAX`] characters (the cut
/// marked with `…`).
pub fn quote(s: &str) -> String {
    format!("{:?}", cut(s))
}

/// `s` cut to at most [`QUOTE_MAX`] characters, the cut marked with `…`.
/// Errors keep an input only this way, so not even a Debug dump of them
/// can repeat a huge value.
pub fn cut(s: &str) -> String {
    if s.chars().count() <= QUOTE_MAX {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(QUOTE_MAX - 1).collect();
    out.push('…');
    out
}

/// Who the scanner runs as (sts:GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: AccountId,
    pub arn: String,
    pub partition: String,
}

/// A 12-digit AWS account id, validated on construction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid AWS account id {}: an account id is exactly 12 digits", quote(.0))]
pub struct InvalidAccountId(pub String);

impl AccountId {
    pub fn parse(raw: &str) -> Result<Self, InvalidAccountId> {
        let trimmed = raw.trim();
        if trimmed.len() == 12 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(InvalidAccountId(cut(raw)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = InvalidAccountId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AccountId> for String {
    fn from(value: AccountId) -> Self {
        value.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a list of account ids, dropping blanks and duplicates (keeps order).
pub fn parse_accounts(raw: &[String]) -> Result<Vec<AccountId>, InvalidAccountId> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for item in raw.iter().filter(|s| !s.trim().is_empty()) {
        let id = AccountId::parse(item)?;
        if seen.insert(id.clone()) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Parses a list of region names, dropping blanks and duplicates (keeps order).
pub fn parse_regions(raw: &[String]) -> Result<Vec<String>, InvalidRegion> {
    let mut out: Vec<String> = Vec::new();
    for item in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        validate_region(item)?;
        if !out.iter().any(|r| r == item) {
            out.push(item.to_owned());
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRegion {
    #[error("{} is not a region name (expected something like eu-west-1)", quote(.0))]
    Malformed(String),
    #[error("{} is not a known AWS region where API Gateway and Security Hub run", quote(.0))]
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
        return Err(InvalidRegion::Malformed(cut(name)));
    }
    if !KNOWN_REGIONS.contains(&name) {
        return Err(InvalidRegion::Unknown(cut(name)));
    }
    Ok(())
}

/// An AWS partition; it prefixes every ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Partition {
    #[serde(rename = "aws")]
    Aws,
    #[serde(rename = "aws-cn")]
    AwsCn,
    #[serde(rename = "aws-us-gov")]
    AwsUsGov,
}

impl Partition {
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Partition::Aws, Partition::AwsCn, Partition::AwsUsGov]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The AWS partition a region belongs to.
pub fn partition_of(region: &str) -> Partition {
    if region.starts_with("cn-") {
        Partition::AwsCn
    } else if region.starts_with("us-gov-") {
        Partition::AwsUsGov
    } else {
        Partition::Aws
    }
}

/// One API Gateway REST API stage as the inventory saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub account_id: AccountId,
    pub region: String,
    pub api_id: String,
    pub api_name: Option<String>,
    pub stage_name: String,
    pub deployment_id: Option<String>,
    /// GetStages omits `tracingEnabled` when it was never set; the SDK (and
    /// API Gateway itself) then means `false`, so absent and false are one
    /// value here.
    pub tracing_enabled: bool,
    pub description: Option<String>,
    pub cache_cluster_enabled: bool,
    pub web_acl_arn: Option<String>,
    pub created_date: Option<DateTime<Utc>>,
    pub last_updated_date: Option<DateTime<Utc>>,
    pub tags: BTreeMap<String, String>,
}

impl StageRecord {
    pub fn partition(&self) -> Partition {
        partition_of(&self.region)
    }

    /// The stage's resource ARN, as Security Hub and IAM spell it (API Gateway
    /// ARNs carry no account id).
    pub fn arn(&self) -> String {
        format!(
            "arn:{}:apigateway:{}::/restapis/{}/stages/{}",
            self.partition(),
            self.region,
            self.api_id,
            self.stage_name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
