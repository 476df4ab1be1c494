//! What started this run: a schedule (EventBridge rule or EventBridge
//! Scheduler), a manual invoke with an optional scope, or a batch of the
//! fan-out queue. Everything is validated here, before any AWS call, so a
//! bad or ambiguous payload publishes nothing.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::SqsEvent;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    parse_accounts, parse_regions, quote, AccountId, AccountRegion, InvalidAccountId,
    InvalidRegion, Region,
};

pub mod change;
pub mod custom;
mod sqs;

pub use crate::model::strict_json::Event;
pub use change::{ApiChange, Change, IgnoredEvent};
pub use custom::{CustomAction, CustomActionError, FindingTarget, IgnoredFinding};
pub use sqs::{queue_items, QueueItem, QueueRequest};

/// What one run should cover. `None` means "everything configured".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanRequest {
    pub accounts: Option<Vec<AccountId>>,
    pub regions: Option<Vec<Region>>,
    pub dry_run: bool,
    pub trigger: Trigger,
    /// Only these REST APIs, by account-region (change events): one
    /// GetStages each, no GetRestApis, and findings read, reconciled and
    /// archived for these APIs only. Account-regions not named are not
    /// part of the run.
    pub apis: Option<BTreeMap<AccountRegion, BTreeSet<String>>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `source` is aws.events (rule) or aws.scheduler (EventBridge Scheduler).
    Schedule {
        source: String,
    },
    Manual,
    /// One batch of the fan-out queue (one account per message).
    Queue,
    /// CloudTrail change events: one REST API rescanned.
    Change,
    #[default]
    Cli,
}

impl Trigger {
    /// One plain word, for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Trigger::Schedule { .. } => "schedule",
            Trigger::Manual => "manual",
            Trigger::Queue => "queue",
            Trigger::Change => "change",
            Trigger::Cli => "cli",
        }
    }
}

/// The body of `aws lambda invoke` for an on-demand rescan. Every field is
/// optional but, when given, must hold a value: an unknown field, a `null`
/// or a blank entry is refused (a typo must not widen a scope or turn a dry
/// run into a publishing one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ManualPayload {
    #[serde(default, deserialize_with = "present")]
    accounts: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    regions: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    dry_run: Option<bool>,
}

/// A field that is there must have a value: `null` is an error, not "unset".
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A scheduled event: exactly the fields EventBridge and EventBridge
/// Scheduler send. Anything else (a scope, `dryRun`) means the sender meant
/// something a schedule does not do, so it is refused.
const SCHEDULE_FIELDS: &str =
    "version, id, detail-type, source, account, time, region, resources, detail";

pub const MANUAL_EXAMPLE: &str = r#"{"accounts": ["123456789012"], "regions": ["eu-west-1"], "dryRun": true}, every field optional"#;

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("the event is not JSON: {0}")]
    NotJson(String),
    #[error("body is not JSON ({0})")]
    BodyNotJson(String),
    #[error("the event must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    #[error("malformed EventBridge event: {0}")]
    MalformedEventBridge(String),
    #[error("unsupported EventBridge event (detail-type {}, source {}): the function takes \"Scheduled Event\" from aws.events or aws.scheduler, and \"Security Hub Findings - Custom Action\" from aws.securityhub", quote(.detail_type), quote(.source_name))]
    UnsupportedEventBridge {
        detail_type: String,
        source_name: String,
    },
    #[error("scheduled event with field(s) a schedule does not send: {0}; a scheduled event has only {SCHEDULE_FIELDS} (send a manual payload to scope a run)")]
    ScheduleWithExtraFields(String),
    #[error("malformed manual payload: {0}; expected {MANUAL_EXAMPLE}")]
    MalformedManual(String),
    #[error("\"{0}\" is an empty list: omit the field to scan everything configured")]
    EmptyList(&'static str),
    #[error("\"{0}\" holds a blank entry")]
    BlankEntry(&'static str),
    #[error("accounts")]
    Account(#[source] InvalidAccountId),
    #[error("regions")]
    Region(#[source] InvalidRegion),
    #[error("malformed SQS event: {0}")]
    MalformedSqs(String),
    #[error("SQS record {index} comes from {}, not aws:sqs", quote(.source_name))]
    NotSqs { index: usize, source_name: String },
    #[error("SQS record {0} has no messageId")]
    NoMessageId(usize),
    #[error("queue message {message_id}")]
    BadMessage {
        message_id: String,
        #[source]
        problem: Box<TriggerError>,
    },
    #[error("names no account; fan-out messages name the accounts to scan")]
    NoAccount,
    #[error("invalid custom action event")]
    CustomAction(#[from] CustomActionError),
}

/// A serde error, cut so that a huge input is not echoed back (the error
/// answer and the log line stay small).
pub(crate) fn short(e: &serde_json::Error) -> String {
    crate::model::cut_to(&e.to_string(), 200)
}

/// What an invocation asks for, every event read into its own type.
#[derive(Debug)]
pub enum Invocation {
    /// A Security Hub custom action: remediate the selected findings.
    CustomAction(CustomAction),
    /// A CloudTrail change event from API Gateway: rescan that one API
    /// (or, read, the reason it changes nothing).
    Change(Change),
    /// Scan (or, for a large organization with a queue, plan) now.
    Scan(ScanRequest),
    /// A batch from the fan-out queue.
    Queue(SqsEvent),
}

/// Turns a Lambda event into what the invocation must do.
pub fn parse_invocation(event: &Value) -> Result<Invocation, TriggerError> {
    if let Value::Object(obj) = event {
        if obj.contains_key("Records") {
            return SqsEvent::deserialize(event)
                .map(Invocation::Queue)
                .map_err(|e| TriggerError::MalformedSqs(short(&e)));
        }
        if change::is_change_event(event) {
            return Ok(Invocation::Change(change::read_change(event)));
        }
        if obj.get("detail-type").and_then(Value::as_str) == Some(custom::DETAIL_TYPE)
            && obj.get("source").and_then(Value::as_str) == Some("aws.securityhub")
        {
            return Ok(Invocation::CustomAction(custom::parse_custom_action(
                event,
            )?));
        }
    }
    parse_event(event).map(Invocation::Scan)
}

/// Turns a (non-queue) Lambda event into a scan request.
pub fn parse_event(event: &Value) -> Result<ScanRequest, TriggerError> {
    let obj = match event {
        Value::Object(map) => map,
        Value::Null => return Err(TriggerError::NotAnObject("null")),
        Value::Array(_) => return Err(TriggerError::NotAnObject("an array")),
        Value::String(_) => return Err(TriggerError::NotAnObject("a string")),
        Value::Number(_) => return Err(TriggerError::NotAnObject("a number")),
        Value::Bool(_) => return Err(TriggerError::NotAnObject("a boolean")),
    };
    // EventBridge events always carry `detail-type`; a manual payload never
    // does (unknown fields are refused), so this test is unambiguous.
    if !obj.contains_key("detail-type") {
        return parse_manual(event);
    }
    let ev = EventBridgeEvent::<Value>::deserialize(event)
        .map_err(|e| TriggerError::MalformedEventBridge(short(&e)))?;
    let scheduled = ev.detail_type == "Scheduled Event"
        && (ev.source == "aws.events" || ev.source == "aws.scheduler");
    if !scheduled {
        return Err(TriggerError::UnsupportedEventBridge {
            detail_type: ev.detail_type,
            source_name: ev.source,
        });
    }
    if !ev.other.is_empty() {
        let names: Vec<String> = ev.other.keys().take(5).map(|k| quote(k)).collect();
        return Err(TriggerError::ScheduleWithExtraFields(names.join(", ")));
    }
    Ok(ScanRequest {
        trigger: Trigger::Schedule { source: ev.source },
        ..ScanRequest::default()
    })
}

/// The manual payload (also the body of a fan-out message).
pub fn parse_manual(event: &Value) -> Result<ScanRequest, TriggerError> {
    let payload =
        ManualPayload::deserialize(event).map_err(|e| TriggerError::MalformedManual(short(&e)))?;
    let accounts = match payload.accounts {
        Some(list) => {
            Some(parse_accounts(&checked_list(list, "accounts")?).map_err(TriggerError::Account)?)
        }
        None => None,
    };
    let regions = match payload.regions {
        Some(list) => {
            Some(parse_regions(&checked_list(list, "regions")?).map_err(TriggerError::Region)?)
        }
        None => None,
    };
    Ok(ScanRequest {
        accounts,
        regions,
        dry_run: payload.dry_run.unwrap_or(false),
        trigger: Trigger::Manual,
        apis: None,
    })
}

/// A list in a payload must name something, every entry.
fn checked_list(list: Vec<String>, field: &'static str) -> Result<Vec<String>, TriggerError> {
    if list.is_empty() {
        return Err(TriggerError::EmptyList(field));
    }
    if list.iter().any(|s| s.trim().is_empty()) {
        return Err(TriggerError::BlankEntry(field));
    }
    Ok(list)
}

#[cfg(test)]
mod tests;
