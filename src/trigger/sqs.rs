//! A batch of the fan-out queue: one item per message, each judged on its
//! own, so one malformed message never fails the others.

use aws_lambda_events::sqs::SqsEvent;
use serde::Deserialize;

use super::change::{is_change_event, read_change, Change};
use super::{parse_manual, short, Event, ScanRequest, Trigger, TriggerError};

/// One message: its id (for `batchItemFailures`) and what it asks.
#[derive(Debug)]
pub struct QueueItem {
    pub message_id: String,
    /// A malformed message is a poison message: reported as failed, so SQS
    /// retries it and finally moves it to the dead-letter queue.
    pub request: Result<QueueRequest, TriggerError>,
}

#[derive(Debug)]
pub enum QueueRequest {
    /// A fan-out message: scan these accounts.
    Scan(ScanRequest),
    /// A CloudTrail change event buffered by a queue: events for the same
    /// API in one batch are rescanned once.
    Change(Change),
}

/// The items of a queue batch. A record that is not from SQS or has no
/// message id makes the whole event invalid: it cannot be answered per item.
pub fn queue_items(ev: &SqsEvent) -> Result<Vec<QueueItem>, TriggerError> {
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
        let bad = |problem: TriggerError| TriggerError::BadMessage {
            message_id: message_id.clone(),
            problem: Box::new(problem),
        };
        // Read as strictly as an invocation's own payload: a duplicated key
        // is refused, not silently resolved to its last value.
        let mut de = serde_json::Deserializer::from_str(rec.body.as_deref().unwrap_or(""));
        let body = Event::deserialize(&mut de)
            .map_err(|e| bad(TriggerError::BodyNotJson(short(&e))))
            .and_then(|Event(v)| v.map_err(|e| bad(TriggerError::BodyNotJson(e))))
            .and_then(|v| {
                de.end()
                    .map(|()| v)
                    .map_err(|e| bad(TriggerError::BodyNotJson(short(&e))))
            });
        let request = match body {
            Err(e) => Err(e),
            Ok(body) if is_change_event(&body) => Ok(QueueRequest::Change(read_change(&body))),
            Ok(body) => parse_manual(&body)
                .map_err(bad)
                .and_then(|req| match &req.accounts {
                    Some(a) if !a.is_empty() => Ok(QueueRequest::Scan(ScanRequest {
                        trigger: Trigger::Queue,
                        ..req
                    })),
                    _ => Err(bad(TriggerError::NoAccount)),
                }),
        };
        items.push(QueueItem {
            message_id,
            request,
        });
    }
    Ok(items)
}
