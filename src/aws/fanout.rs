//! Fan-out for organizations too large for one 15-minute invocation: the
//! scheduled run only plans, sending one SQS message per account; the same
//! function consumes the queue and scans the accounts of each batch.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::json;
use tracing::{info, instrument, warn};

use crate::model::{AccountId, Region};
use crate::report::{chain, ErrorEntry, ErrorKind, FanOutReport};

/// SendMessageBatch takes at most 10 entries.
pub const SEND_BATCH: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum FanOutError {
    #[error("sqs:SendMessageBatch to {queue_url} failed; {accounts} account(s) not queued")]
    Send {
        queue_url: String,
        accounts: usize,
        #[source]
        source: aws_sdk_sqs::Error,
    },
    #[error("SQS refused the message for account {account}: {code}: {message}")]
    Refused {
        account: AccountId,
        code: String,
        message: String,
    },
}

impl FanOutError {
    pub fn code(&self) -> Option<String> {
        match self {
            Self::Send { source, .. } => source.code().map(str::to_owned),
            Self::Refused { code, .. } => Some(code.clone()),
        }
    }
}

impl From<&FanOutError> for ErrorEntry {
    fn from(e: &FanOutError) -> Self {
        let account = match e {
            FanOutError::Refused { account, .. } => Some(account),
            FanOutError::Send { .. } => None,
        };
        Self {
            code: e.code(),
            ..Self::new(ErrorKind::Enqueue, account, None, chain(e))
        }
    }
}

/// The body of one fan-out message: the manual payload, scoped to one account.
pub fn message_body(account: &AccountId, regions: &[Region], dry_run: bool) -> String {
    json!({"accounts": [account], "regions": regions, "dryRun": dry_run}).to_string()
}

/// Sends one message per account, 10 per call. An entry SQS refuses is sent
/// once more; what still fails is returned.
#[instrument(skip_all, fields(queue_url = %queue_url, accounts = accounts.len()))]
pub async fn enqueue(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    accounts: &[AccountId],
    regions: &[Region],
    dry_run: bool,
) -> (FanOutReport, Vec<FanOutError>) {
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    let mut report = FanOutReport {
        queue_url: queue_url.to_owned(),
        ..FanOutReport::default()
    };
    let mut errors = Vec::new();
    for chunk in accounts.chunks(SEND_BATCH) {
        let mut pending: Vec<&AccountId> = chunk.iter().collect();
        for attempt in 0..2 {
            if attempt > 0 {
                // As the publish loop: give the queue a moment before
                // sending what it refused again.
                tokio::time::sleep(std::time::Duration::from_millis(250 << attempt)).await;
            }
            // Entry ids only need to be unique within the batch.
            let entries: Vec<_> = pending
                .iter()
                .map(|a| {
                    SendMessageBatchRequestEntry::builder()
                        .id(a.as_str())
                        .message_body(message_body(a, regions, dry_run))
                        .build()
                        .expect("id and body are set")
                })
                .collect();
            let out = match client
                .send_message_batch()
                .queue_url(queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    let err = FanOutError::Send {
                        queue_url: queue_url.to_owned(),
                        accounts: pending.len(),
                        source: e.into(),
                    };
                    warn!(error = %crate::report::chain(&err), "enqueue failed");
                    report.accounts_not_queued += pending.len();
                    errors.push(err);
                    break;
                }
            };
            report.accounts_queued += out.successful().len();
            let failed = out.failed();
            if failed.is_empty() {
                break;
            }
            if attempt == 1 {
                report.accounts_not_queued += failed.len();
                // Entry ids are the account ids this call sent.
                errors.extend(failed.iter().filter_map(|f| {
                    let account = pending.iter().find(|a| a.as_str() == f.id())?;
                    Some(FanOutError::Refused {
                        account: (*account).clone(),
                        code: f.code().to_owned(),
                        message: f.message().unwrap_or_default().to_owned(),
                    })
                }));
            } else {
                let ids: Vec<&str> = failed.iter().map(|f| f.id()).collect();
                pending.retain(|a| ids.contains(&a.as_str()));
            }
        }
    }
    info!(
        queued = report.accounts_queued,
        not_queued = report.accounts_not_queued,
        "fan-out planned"
    );
    (report, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_a_valid_scoped_manual_payload() {
        let a = AccountId::parse("111111111111").unwrap();
        let body = message_body(
            &a,
            &[crate::model::Region::parse("eu-west-1").unwrap()],
            true,
        );
        let req = crate::trigger::parse_manual(&serde_json::from_str(&body).unwrap()).unwrap();
        assert_eq!(req.accounts.unwrap(), [a]);
        assert_eq!(req.regions.unwrap(), ["eu-west-1"]);
        assert!(req.dry_run);
    }
}
