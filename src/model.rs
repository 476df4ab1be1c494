//! The project's own types. Adapters (inventory, accounts, publish) convert
//! SDK output into these, so the pure core never sees an SDK struct.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A 12-digit AWS account id, validated on construction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid AWS account id {0:?}: an account id is exactly 12 digits")]
pub struct InvalidAccountId(pub String);

impl AccountId {
    pub fn parse(raw: &str) -> Result<Self, InvalidAccountId> {
        let trimmed = raw.trim();
        if trimmed.len() == 12 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(InvalidAccountId(raw.to_owned()))
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

/// The AWS partition a region belongs to; it prefixes every ARN we build.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
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
    pub fn partition(&self) -> &'static str {
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
