//! What started this run: a schedule (EventBridge rule or EventBridge
//! Scheduler) or a manual invoke with an optional scope. Everything is
//! validated here, before any AWS call, so a bad payload publishes nothing.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::SqsEvent;
use serde::Deserialize;
use serde_json::Value;

use crate::config::{parse_accounts, parse_regions, ConfigError};
use crate::model::AccountId;

/// What one run should cover. `None` means "everything configured".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanRequest {
    pub accounts: Option<Vec<AccountId>>,
    pub regions: Option<Vec<String>>,
    pub dry_run: bool,
    pub trigger: Trigger,
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
    #[default]
    Cli,
}

/// The body of `aws lambda invoke` for an on-demand rescan. Every field is
/// optional; an unknown field is an error (a typo must not widen a scope).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ManualPayload {
    accounts: Option<Vec<String>>,
    regions: Option<Vec<String>>,
    dry_run: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("the event must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    #[error("malformed EventBridge event: {0}")]
    MalformedEventBridge(#[source] serde_json::Error),
    #[error("unsupported EventBridge event (detail-type {detail_type:?}, source {source_name:?}): only \"Scheduled Event\" from aws.events or aws.scheduler starts a scan")]
    UnsupportedEventBridge {
        detail_type: String,
        source_name: String,
    },
    #[error("malformed manual payload: {0}; expected {{\"accounts\": [\"123456789012\"], \"regions\": [\"eu-west-1\"], \"dryRun\": true}}, every field optional")]
    MalformedManual(#[source] serde_json::Error),
    #[error("\"{0}\" is an empty list: omit the field to scan everything configured")]
    EmptyList(&'static str),
    #[error("invalid manual payload: {0}")]
    Invalid(#[source] ConfigError),
    #[error("malformed SQS event: {0}")]
    MalformedSqs(#[source] serde_json::Error),
    #[error("SQS record {index} comes from {source_name:?}, not aws:sqs")]
    NotSqs { index: usize, source_name: String },
    #[error("SQS record {0} has no messageId")]
    NoMessageId(usize),
    #[error("queue message {message_id}: {problem}")]
    BadMessage { message_id: String, problem: String },
}

/// What an invocation asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Scan (or, for a large organization with a queue, plan) now.
    Scan(ScanRequest),
    /// A batch from the fan-out queue: one item per message.
    Queue(Vec<QueueItem>),
}

/// One fan-out message: its id (for `batchItemFailures`) and what it asks.
#[derive(Debug)]
pub struct QueueItem {
    pub message_id: String,
    /// A malformed message is a poison message: reported as failed, so SQS
    /// retries it and finally moves it to the dead-letter queue.
    pub request: Result<ScanRequest, TriggerError>,
}

/// Turns a Lambda event into what the invocation must do.
pub fn parse_invocation(event: &Value) -> Result<Invocation, TriggerError> {
    if let Value::Object(obj) = event {
        if obj.contains_key("Records") {
            return parse_sqs(event).map(Invocation::Queue);
        }
    }
    parse_event(event).map(Invocation::Scan)
}

fn parse_sqs(event: &Value) -> Result<Vec<QueueItem>, TriggerError> {
    let ev: SqsEvent = serde_json::from_value(event.clone()).map_err(TriggerError::MalformedSqs)?;
    let mut items = Vec::with_capacity(ev.records.len());
    for (index, rec) in ev.records.iter().enumerate() {
        let source = rec.event_source.clone().unwrap_or_default();
        if source != "aws:sqs" {
            return Err(TriggerError::NotSqs {
                index,
                source_name: source,
            });
        }
        let message_id = rec
            .message_id
            .clone()
            .ok_or(TriggerError::NoMessageId(index))?;
        let bad = |problem: String| TriggerError::BadMessage {
            message_id: message_id.clone(),
            problem,
        };
        let request = serde_json::from_str::<Value>(rec.body.as_deref().unwrap_or(""))
            .map_err(|e| bad(format!("body is not JSON ({e})")))
            .and_then(|body| parse_manual(&body).map_err(|e| bad(e.to_string())))
            .and_then(|req| match &req.accounts {
                Some(a) if !a.is_empty() => Ok(ScanRequest {
                    trigger: Trigger::Queue,
                    ..req
                }),
                _ => Err(bad(
                    "names no account; fan-out messages name the accounts to scan".into(),
                )),
            });
        items.push(QueueItem {
            message_id,
            request,
        });
    }
    Ok(items)
}

/// Turns a Lambda event into a scan request.
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
    if obj.contains_key("detail-type") {
        let ev: EventBridgeEvent<Value> =
            serde_json::from_value(event.clone()).map_err(TriggerError::MalformedEventBridge)?;
        let scheduled = ev.detail_type == "Scheduled Event"
            && (ev.source == "aws.events" || ev.source == "aws.scheduler");
        if !scheduled {
            return Err(TriggerError::UnsupportedEventBridge {
                detail_type: ev.detail_type,
                source_name: ev.source,
            });
        }
        return Ok(ScanRequest {
            trigger: Trigger::Schedule { source: ev.source },
            ..ScanRequest::default()
        });
    }
    parse_manual(event)
}

/// The manual payload (also the body of a fan-out message).
pub fn parse_manual(event: &Value) -> Result<ScanRequest, TriggerError> {
    let payload: ManualPayload =
        serde_json::from_value(event.clone()).map_err(TriggerError::MalformedManual)?;
    let accounts = match payload.accounts {
        Some(list) if list.is_empty() => return Err(TriggerError::EmptyList("accounts")),
        Some(list) => Some(parse_accounts(&list, "accounts").map_err(TriggerError::Invalid)?),
        None => None,
    };
    let regions = match payload.regions {
        Some(list) if list.is_empty() => return Err(TriggerError::EmptyList("regions")),
        Some(list) => Some(parse_regions(&list, "regions").map_err(TriggerError::Invalid)?),
        None => None,
    };
    Ok(ScanRequest {
        accounts,
        regions,
        dry_run: payload.dry_run.unwrap_or(false),
        trigger: Trigger::Manual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn both_kinds_of_schedule_scan_everything() {
        for (file, source) in [
            ("eventbridge-rule-scheduled.json", "aws.events"),
            ("scheduler-scheduled.json", "aws.scheduler"),
        ] {
            let req = parse_event(&fixture(file)).unwrap();
            assert_eq!(
                req.trigger,
                Trigger::Schedule {
                    source: source.into()
                }
            );
            assert_eq!(
                (req.accounts, req.regions, req.dry_run),
                (None, None, false)
            );
        }
    }

    #[test]
    fn manual_payload_scopes_the_run() {
        let req = parse_event(&fixture("manual-scoped.json")).unwrap();
        assert_eq!(req.trigger, Trigger::Manual);
        assert_eq!(req.accounts.unwrap()[0].as_str(), "111111111111");
        assert_eq!(req.regions.unwrap(), ["eu-west-1"]);
        assert!(req.dry_run);
        let all = parse_event(&json!({})).unwrap();
        assert_eq!(
            (all.accounts, all.regions, all.dry_run),
            (None, None, false)
        );
    }

    #[test]
    fn bad_events_are_rejected_with_a_clear_message() {
        let cases = [
            (json!(null), "must be a JSON object, got null"),
            (json!([1]), "got an array"),
            (
                json!({"acounts": ["111111111111"]}),
                "unknown field `acounts`",
            ),
            (
                json!({"accounts": "111111111111"}),
                "malformed manual payload",
            ),
            (json!({"accounts": []}), "\"accounts\" is an empty list"),
            (json!({"regions": []}), "\"regions\" is an empty list"),
            (
                json!({"accounts": ["1234"]}),
                "invalid AWS account id \"1234\"",
            ),
            (
                json!({"regions": ["moon-1"]}),
                "\"moon-1\" is not a region name",
            ),
            (json!({"regions": ["eu-west-7"]}), "not a known AWS region"),
            (json!({"dryRun": "yes"}), "malformed manual payload"),
            (
                json!({"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}}),
                "unsupported EventBridge event",
            ),
            (
                json!({"detail-type": "Scheduled Event"}),
                "malformed EventBridge event",
            ),
        ];
        for (event, want) in cases {
            let err = parse_event(&event).unwrap_err().to_string();
            assert!(err.contains(want), "{event}: {err}");
        }
    }
}

#[cfg(test)]
mod sqs_tests {
    use super::*;
    use serde_json::json;

    fn record(id: &str, body: &str) -> Value {
        json!({"messageId": id, "receiptHandle": "rh", "body": body, "attributes": {}, "messageAttributes": {},
               "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q", "awsRegion": "eu-west-1"})
    }

    #[test]
    fn queue_batches_keep_each_message_apart() {
        let event = json!({"Records": [
            record("m1", r#"{"accounts": ["111111111111"], "regions": ["eu-west-1"]}"#),
            record("m2", "not json"),
            record("m3", r#"{"regions": ["eu-west-1"]}"#),
            record("m4", r#"{"accounts": ["222222222222"], "dryRun": true, "extra": 1}"#),
        ]});
        let Invocation::Queue(items) = parse_invocation(&event).unwrap() else {
            panic!("not a queue batch")
        };
        let ids: Vec<_> = items.iter().map(|i| i.message_id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2", "m3", "m4"]);
        let ok = items[0].request.as_ref().unwrap();
        assert_eq!(
            (
                ok.trigger.clone(),
                ok.accounts.as_ref().unwrap()[0].as_str()
            ),
            (Trigger::Queue, "111111111111")
        );
        for (i, want) in [
            (1, "body is not JSON"),
            (2, "names no account"),
            (3, "unknown field `extra`"),
        ] {
            let err = items[i].request.as_ref().unwrap_err().to_string();
            assert!(
                err.contains(want) && err.contains(&format!("m{}", i + 1)),
                "{err}"
            );
        }
    }

    #[test]
    fn a_record_from_elsewhere_is_refused() {
        let mut r = record("m1", "{}");
        r["eventSource"] = json!("aws:sns");
        let err = parse_invocation(&json!({"Records": [r]}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not aws:sqs"), "{err}");
        assert!(parse_invocation(&json!({"Records": "x"}))
            .unwrap_err()
            .to_string()
            .contains("malformed SQS event"));
    }
}
