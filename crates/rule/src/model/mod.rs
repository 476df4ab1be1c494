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
    cut_to(s, QUOTE_MAX)
}

/// `s` cut to at most `max` characters, the cut marked with `…`: the one
/// way any text is shortened (messages, ASFF field limits).
pub fn cut_to(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some(_) => {
            let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
            out.push('…');
            out
        }
    }
}

/// Who the scanner runs as (sts:GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: AccountId,
    pub arn: String,
    pub partition: Partition,
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

impl PartialEq<str> for AccountId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for AccountId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for AccountId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: tables give it a width.
        f.pad(&self.0)
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

/// One API Gateway REST API stage as the inventory saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageRecord {
    /// Where it is: account, region, API id and stage name.
    pub place: StageRef,
    pub api_name: Option<String>,
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
    /// Stage variables: they resolve `${stageVariables.x}` in the API's
    /// integration URIs, per stage (the trace path).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
}

impl StageRecord {
    /// A stage known only by its place and tracing (no name, dates or tags).
    pub fn new(place: StageRef, tracing_enabled: bool) -> Self {
        Self {
            place,
            api_name: None,
            deployment_id: None,
            tracing_enabled,
            description: None,
            cache_cluster_enabled: false,
            web_acl_arn: None,
            created_date: None,
            last_updated_date: None,
            tags: BTreeMap::new(),
            variables: BTreeMap::new(),
        }
    }
}

mod fix;
mod place;
mod region;
pub mod strict_json;
pub use fix::{fix_command, patch, shell_word, PATCH_PATH, PATCH_VALUE};
pub use place::{
    is_api_id, is_api_id_char, is_stage_name, is_stage_name_char, rest_api_of_arn, AccountRegion,
    InvalidPlace, StageArn, StageRef, API_ID_MAX, STAGE_ARN_SHAPE, STAGE_NAME_MAX,
};
pub use region::{
    join as join_regions, parse_regions, InvalidRegion, Partition, Region, KNOWN_REGIONS,
};
