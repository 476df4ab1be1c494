//! `react`: CloudTrail change events from the member accounts (read by
//! `trigger::change`), each REST API they name rescanned once: one
//! GetStages, its findings reconciled and archived, nothing else touched.
//! Events that cannot matter were ignored when read, without an AWS call.
//! Runs under the invocation's deadline, like a scan.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;
use futures::FutureExt;
use tracing::info;

use crate::aws::AwsEnv;
use crate::config::Config;
use crate::model::AccountRegion;
use crate::report::Summary;
use crate::scan::{self, ScanError, ScanOptions};
use crate::trigger::{ApiChange, Change, IgnoredEvent, ScanRequest, Trigger};

/// Rescans each API the changes name (once however many events name it).
/// Boxed: the future is large and must be provably `Send`.
pub fn react<'a>(
    env: &'a AwsEnv,
    cfg: &'a Config,
    changes: Vec<Change>,
    opts: ScanOptions,
) -> BoxFuture<'a, Result<Summary, ScanError>> {
    react_inner(env, cfg, changes, opts).boxed()
}

async fn react_inner(
    env: &AwsEnv,
    cfg: &Config,
    changes: Vec<Change>,
    opts: ScanOptions,
) -> Result<Summary, ScanError> {
    let events = changes.len();
    let mut ignored = Vec::new();
    let mut apis: BTreeSet<ApiChange> = BTreeSet::new();
    for change in changes {
        match change {
            Ok(c) => {
                apis.insert(c);
            }
            Err(i) => ignored.push(i),
        }
    }
    let regions = crate::plan::regions(cfg, &ScanRequest::default(), env.home_region().as_deref())?;
    apis.retain(|c| {
        let reason = crate::plan::outside_scope(cfg, &regions, &c.account, c.region);
        if let Some(reason) = reason {
            ignored.push(IgnoredEvent {
                event_name: String::new(),
                account: Some(c.account.to_string()),
                region: Some(c.region.to_string()),
                reason: reason.into(),
            });
        }
        reason.is_none()
    });
    info!(
        events,
        apis = apis.len(),
        ignored = ignored.len(),
        trigger = "change",
        "invocation"
    );
    // One run for the whole batch: one pacer set and one session per
    // account, every API under the same deadline (an account-region not
    // started before it is reported `not_scanned`; the queue hands its
    // events back for redelivery).
    let mut by_place: BTreeMap<AccountRegion, BTreeSet<String>> = BTreeMap::new();
    for c in apis {
        by_place
            .entry(AccountRegion::new(c.account, c.region))
            .or_default()
            .insert(c.api_id);
    }
    let mut summary = if by_place.is_empty() {
        Summary::new(
            Trigger::Change,
            cfg.dry_run,
            chrono::Utc::now(),
            None,
            &[],
            Vec::new(),
        )
    } else {
        let accounts: BTreeSet<_> = by_place.keys().map(|at| at.account.clone()).collect();
        let regions: BTreeSet<_> = by_place.keys().map(|at| at.region).collect();
        let req = ScanRequest {
            accounts: Some(accounts.into_iter().collect()),
            regions: Some(regions.into_iter().collect()),
            dry_run: false,
            trigger: Trigger::Change,
            apis: Some(by_place),
        };
        scan::run(env, cfg, &req, opts).await?.summary
    };
    summary.ignored = ignored;
    summary.finish();
    Ok(summary)
}
