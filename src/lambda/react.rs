//! Change events: CloudTrail calls forwarded from the member accounts,
//! each REST API they name rescanned once.

use std::collections::BTreeSet;

use serde_json::Value;
use tracing::info;

use super::Handler;
use crate::report::Summary;
use crate::scan::{self, ScanError, ScanOptions};
use crate::trigger::change::{read_change, IgnoredEvent};
use crate::trigger::{ScanRequest, Trigger};

impl Handler {
    /// Change events: each REST API they name is rescanned once (one
    /// GetStages; its findings reconciled and archived, nothing else
    /// touched). Events that cannot matter are ignored without an AWS call.
    pub async fn react(&self, events: Vec<Value>) -> Result<Summary, ScanError> {
        let mut ignored = Vec::new();
        let mut apis = BTreeSet::new();
        for event in &events {
            match read_change(event) {
                Ok(c) => {
                    apis.insert(c);
                }
                Err(i) => ignored.push(i),
            }
        }
        let regions = crate::plan::regions(
            &self.cfg,
            &ScanRequest::default(),
            self.env.home_region().as_deref(),
        )?;
        apis.retain(|c| {
            let reason = crate::plan::outside_scope(&self.cfg, &regions, &c.account, &c.region);
            if let Some(reason) = reason {
                ignored.push(IgnoredEvent {
                    event_name: String::new(),
                    account: Some(c.account.to_string()),
                    region: Some(c.region.clone()),
                    reason: reason.into(),
                });
            }
            reason.is_none()
        });
        info!(
            events = events.len(),
            apis = apis.len(),
            ignored = ignored.len(),
            trigger = "change",
            "invocation"
        );
        let mut summary = Summary::new(
            Trigger::Change,
            self.cfg.dry_run,
            chrono::Utc::now(),
            "",
            &[],
            Vec::new(),
        );
        for c in apis {
            let req = ScanRequest {
                accounts: Some(vec![c.account.clone()]),
                regions: Some(vec![c.region.clone()]),
                dry_run: false,
                trigger: Trigger::Change,
                api_id: Some(c.api_id.clone()),
            };
            let out = scan::run(&self.env, &self.cfg, &req, ScanOptions::default()).await?;
            summary.absorb(out.summary);
        }
        summary.ignored = ignored;
        summary.finish();
        Ok(summary)
    }
}
