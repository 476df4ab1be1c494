//! The queue consumer: a batch of fan-out messages (and of change events
//! buffered by a queue), answered with `SqsBatchResponse` so SQS delivers
//! again only what failed.

use std::collections::{BTreeMap, BTreeSet};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use tracing::{error, info, warn};

use super::{Handler, HandlerError};
use crate::model::{AccountId, Region};
use crate::report::chain;
use crate::trigger::{queue_items, Change, QueueRequest, ScanRequest, Trigger};

/// Messages asking for the same regions and dry-run mode are scanned together.
type Scope = (Vec<Region>, bool);

impl Handler {
    /// One batch of the fan-out queue. Messages with the same scope are
    /// scanned together; a message is reported failed (so SQS delivers it
    /// again, and after the queue's maxReceiveCount moves it to the
    /// dead-letter queue) when it is malformed or its account had any error.
    pub async fn consume(
        &self,
        event: LambdaEvent<SqsEvent>,
    ) -> Result<SqsBatchResponse, HandlerError> {
        let opts = self.options(&event.context);
        let items = queue_items(&event.payload)?;
        info!(messages = items.len(), "queue batch");
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut groups: BTreeMap<Scope, Vec<(String, AccountId)>> = BTreeMap::new();
        let mut changes: Vec<(String, Change)> = Vec::new();
        for item in items {
            match item.request {
                Err(e) => {
                    error!(message_id = %item.message_id, error = %chain(&e), "poison message");
                    failed.insert(item.message_id);
                }
                Ok(QueueRequest::Change(event)) => changes.push((item.message_id, event)),
                Ok(QueueRequest::Scan(req)) => {
                    let key = (req.regions.clone().unwrap_or_default(), req.dry_run);
                    for account in req.accounts.into_iter().flatten() {
                        groups
                            .entry(key.clone())
                            .or_default()
                            .push((item.message_id.clone(), account));
                    }
                }
            }
        }
        for ((regions, dry_run), members) in groups {
            let mut accounts: Vec<AccountId> = members.iter().map(|(_, a)| a.clone()).collect();
            accounts.sort();
            accounts.dedup();
            let req = ScanRequest {
                accounts: Some(accounts),
                regions: (!regions.is_empty()).then_some(regions),
                dry_run,
                trigger: Trigger::Queue,
                api_id: None,
            };
            let bad: BTreeSet<AccountId> = match self.scan(&req, opts.clone()).await {
                Ok((summary, remediation)) => {
                    if let Some(r) = remediation {
                        info!(
                            enabled = r.totals.enabled,
                            failed = r.totals.failed,
                            skipped = r.totals.skipped,
                            "auto remediation after the queue batch"
                        );
                    }
                    summary
                        .errors
                        .iter()
                        .filter_map(|e| e.account.clone())
                        .collect()
                }
                Err(e) => {
                    error!(error = %chain(&e), "queue batch not scanned");
                    members.iter().map(|(_, a)| a.clone()).collect()
                }
            };
            failed.extend(
                members
                    .into_iter()
                    .filter(|(_, a)| bad.contains(a))
                    .map(|(id, _)| id),
            );
        }
        if !changes.is_empty() {
            let (ids, events): (Vec<String>, Vec<Change>) = changes.into_iter().unzip();
            match crate::react::react(&self.env, &self.cfg, events, opts).await {
                // The next change event or scan covers a partial rescan.
                Ok(summary) => info!(
                    apis = summary.totals.apis,
                    ignored = summary.ignored.len(),
                    "change events"
                ),
                Err(e) => {
                    error!(error = %chain(&e), "change events not rescanned");
                    failed.extend(ids);
                }
            }
        }
        if !failed.is_empty() {
            warn!(failed = failed.len(), "messages returned to the queue");
        }
        let mut response = SqsBatchResponse::default();
        for id in failed {
            response.add_failure(id);
        }
        Ok(response)
    }
}
