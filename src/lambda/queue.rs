//! The queue consumer: a batch of fan-out messages (and of change events
//! buffered by a queue), answered with `SqsBatchResponse` so SQS delivers
//! again only what failed.

use std::collections::{BTreeMap, BTreeSet};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use tracing::{error, info, warn};

use super::{Handler, HandlerError};
use crate::model::{AccountId, AccountRegion, Region};
use crate::report::{chain, ErrorKind};
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
                apis: None,
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
            // Where each event points, to hand back those the deadline
            // left unscanned.
            let places: Vec<(String, Option<AccountRegion>)> = changes
                .iter()
                .map(|(id, c)| {
                    let at = c
                        .as_ref()
                        .ok()
                        .map(|c| AccountRegion::new(c.account.clone(), c.region));
                    (id.clone(), at)
                })
                .collect();
            let events: Vec<Change> = changes.into_iter().map(|(_, c)| c).collect();
            match crate::react::react(&self.env, &self.cfg, events, opts).await {
                Ok(summary) => {
                    // Not started before the deadline: redelivered by SQS.
                    // Anything else partial is covered by the next change
                    // event or scan.
                    let late: BTreeSet<AccountRegion> = summary
                        .errors
                        .iter()
                        .filter(|e| e.kind == ErrorKind::NotScanned)
                        .filter_map(|e| Some(AccountRegion::new(e.account.clone()?, e.region?)))
                        .collect();
                    let handed_back: Vec<String> = places
                        .into_iter()
                        .filter(|(_, at)| at.as_ref().is_some_and(|at| late.contains(at)))
                        .map(|(id, _)| id)
                        .collect();
                    info!(
                        apis = summary.totals.apis,
                        ignored = summary.ignored.len(),
                        handed_back = handed_back.len(),
                        "change events"
                    );
                    failed.extend(handed_back);
                }
                Err(e) => {
                    error!(error = %chain(&e), "change events not rescanned");
                    failed.extend(places.into_iter().map(|(id, _)| id));
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
