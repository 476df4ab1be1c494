//! What one run covers, decided before any scan work: the accounts (the
//! request's scope, else the configured list, else the organization; minus
//! the exclude list), the regions, and whether the run only plans (fan-out).
//! Pure: listing the organization is the caller's adapter call.
//!
//! A request may only narrow the configuration: an account or region
//! outside what is configured is refused, never scanned.

use std::collections::BTreeSet;

use crate::config::{AccountSource, Config};
use crate::model::{join_regions, AccountId, InvalidRegion, Region};
use crate::report::Skipped;
use crate::trigger::{ScanRequest, Trigger};

/// The run, planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Accounts to scan, deduplicated, in the order asked.
    pub targets: Vec<AccountId>,
    /// Accounts asked for but not scanned, with the reason.
    pub skipped: Vec<Skipped>,
    pub regions: Vec<Region>,
    /// The queue to send one message per account to, when this run only
    /// plans (a large organization); `None` scans here.
    pub fan_out: Option<String>,
    pub dry_run: bool,
    /// The organization's ACTIVE accounts, when this run listed them: a
    /// function in any other account is outside the organization (the trace
    /// path reads it as UNKNOWN, without trying).
    pub organization: Option<BTreeSet<AccountId>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no region to scan: set APIGW_TRACING_REGIONS (or --regions), or AWS_REGION")]
    NoRegion,
    #[error("AWS_REGION")]
    HomeRegion(#[source] InvalidRegion),
    #[error("region {region} is outside the configured regions ({configured}); a request may only narrow them")]
    RegionOutOfScope { region: Region, configured: String },
    #[error(
        "account {account} is not in {set}; a request may only narrow the configured accounts"
    )]
    AccountOutOfScope {
        account: AccountId,
        set: &'static str,
    },
}

/// The configured regions (else the SDK's home region), then the request's,
/// which must be among them. Needs no AWS call.
pub fn regions(
    cfg: &Config,
    req: &ScanRequest,
    home: Option<&str>,
) -> Result<Vec<Region>, PlanError> {
    let configured = if cfg.regions.is_empty() {
        let home = home.ok_or(PlanError::NoRegion)?;
        vec![Region::parse(home).map_err(PlanError::HomeRegion)?]
    } else {
        cfg.regions.clone()
    };
    let Some(asked) = &req.regions else {
        return Ok(configured);
    };
    if let Some(region) = asked.iter().find(|r| !configured.contains(r)) {
        return Err(PlanError::RegionOutOfScope {
            region: *region,
            configured: join_regions(&configured),
        });
    }
    Ok(asked.clone())
}

/// Why `account` in `region` is outside the configuration, if it is (for
/// one account-region named by an event: a change, a custom action). Needs
/// no AWS call; with the organization as the account set, membership is
/// the caller's to check.
pub fn outside_scope(
    cfg: &Config,
    regions: &[Region],
    account: &AccountId,
    region: Region,
) -> Option<&'static str> {
    if cfg.exclude.contains(account) {
        Some("the account is excluded (APIGW_TRACING_EXCLUDE_ACCOUNTS)")
    } else if matches!(&cfg.accounts, AccountSource::Fixed(list) if !list.contains(account)) {
        Some("the account is not among the configured accounts")
    } else if !regions.contains(&region) {
        Some("the region is not among the configured regions")
    } else {
        None
    }
}

/// Whether `plan` needs the organization's account list: to cover it, or
/// to check that a manual scope stays inside it. A queue message names an
/// account the planner took from that list, so it is not listed again
/// (ListAccounts returns 20 accounts a page: a large organization would
/// cost every batch dozens of calls).
pub fn needs_organization(cfg: &Config, req: &ScanRequest) -> bool {
    cfg.accounts == AccountSource::Organization
        && (req.accounts.is_none() || req.trigger == Trigger::Manual)
}

/// Plans the run. `organization` is the organization's ACTIVE accounts
/// when [`needs_organization`] said so, else `None`.
pub fn plan(
    cfg: &Config,
    req: &ScanRequest,
    home: Option<&str>,
    organization: Option<&[AccountId]>,
) -> Result<Plan, PlanError> {
    let regions = regions(cfg, req, home)?;
    let (configured, set): (Option<&[AccountId]>, &'static str) = match &cfg.accounts {
        AccountSource::Fixed(list) => (Some(list), "the configured accounts"),
        AccountSource::Organization => (organization, "the organization"),
    };
    let wanted: &[AccountId] = match (&req.accounts, configured) {
        (Some(scope), Some(allowed)) => {
            if let Some(outside) = scope.iter().find(|a| !allowed.contains(a)) {
                return Err(PlanError::AccountOutOfScope {
                    account: outside.clone(),
                    set,
                });
            }
            scope
        }
        (Some(scope), None) => scope,
        (None, Some(all)) => all,
        // needs_organization() was true: the caller lists it.
        (None, None) => &[],
    };
    let mut seen = BTreeSet::new();
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for id in wanted {
        if !seen.insert(id) {
            continue;
        }
        if cfg.exclude.contains(id) {
            skipped.push(Skipped {
                account: id.clone(),
                reason: "excluded by configuration (APIGW_TRACING_EXCLUDE_ACCOUNTS)".into(),
            });
        } else {
            targets.push(id.clone());
        }
    }
    // Only a Lambda run that was not itself handed out by the queue plans;
    // the CLI always scans.
    let lambda_run = matches!(req.trigger, Trigger::Schedule { .. } | Trigger::Manual);
    let fan_out = cfg
        .fan_out
        .queue_url
        .clone()
        .filter(|_| lambda_run && targets.len() > cfg.fan_out.above);
    Ok(Plan {
        targets,
        skipped,
        regions,
        fan_out,
        dry_run: cfg.dry_run || req.dry_run,
        organization: organization.map(|o| o.iter().cloned().collect()),
    })
}

#[cfg(test)]
mod tests;
