//! `remediate`: turn X-Ray tracing on where the check fails, through a
//! separate, write-capable member role. The stages to decide on come from
//! an inventory through the read role (the CLI), from the scan that just
//! ran (`auto`, see [`auto_plan`]) or from a custom action's findings, each
//! read again. Per stage: decide (`decide`, pure), and with `apply` one
//! UpdateStage, read back, and that stage's finding imported as PASSED at
//! once (same Id, CreatedAt kept) through the same findings step as the
//! scan. Without `apply` nothing is written: no UpdateStage, no
//! BatchImportFindings.

use chrono::Utc;
use futures::future::BoxFuture;
use futures::{stream, FutureExt, StreamExt};
use serde::Serialize;

use crate::asff::Finding;
use crate::aws::accounts::{self, Identity};
use crate::aws::pacing::Pacers;
use crate::aws::{inventory, AwsEnv};
use crate::config::Config;
use crate::evaluate::{evaluate, Evaluation};
use crate::model::{AccountId, AccountRegion, StageArn};
use crate::plan::Plan;
use crate::report::{ErrorEntry, ErrorKind, RunStatus};
use crate::trigger::IgnoredFinding;

mod auto;
mod custom;
pub mod decide;
pub mod path;
mod write;
pub use auto::auto_plan;
pub use custom::custom_action;
use decide::{Action, Requester, StageAction};

#[derive(Debug, Clone)]
pub struct RemediateOptions {
    /// Make the changes (else: report what would change, write nothing).
    pub apply: bool,
    /// Only these stages (empty: every stage in scope).
    pub stages: Vec<StageArn>,
    pub requested_by: Requester,
    /// Price each stage turned on (`None`: no estimate, nothing read for it).
    pub prices: Option<crate::cost::Prices>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RemediationTotals {
    pub enabled: usize,
    pub would_enable: usize,
    pub skipped: usize,
    pub failed: usize,
    pub resolved: usize,
}

/// What a remediation did (`--format json`, the Lambda answer).
#[derive(Debug, Clone, Serialize)]
pub struct RemediationReport {
    pub apply: bool,
    pub requested_by: Requester,
    /// `partial` when a change failed or an account-region could not be
    /// read (nothing was changed there).
    pub status: RunStatus,
    pub totals: RemediationTotals,
    pub stages: Vec<StageAction>,
    pub errors: Vec<ErrorEntry>,
    /// Custom action: findings that were not acted on, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<IgnoredFinding>,
    /// What the stages turned on (or to turn on) would cost, per account
    /// (before the free tier) and overall (after it, applied once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate_totals: Option<crate::estimate::EstimateTotals>,
    #[serde(skip)]
    prices: Option<crate::cost::Prices>,
}

impl RemediationReport {
    pub fn new(opts: &RemediateOptions) -> Self {
        Self {
            apply: opts.apply,
            requested_by: opts.requested_by,
            status: RunStatus::Complete,
            totals: RemediationTotals::default(),
            stages: Vec::new(),
            errors: Vec::new(),
            ignored: Vec::new(),
            estimate_totals: None,
            prices: opts.prices,
        }
    }

    pub fn finish(&mut self) {
        let mut t = RemediationTotals::default();
        for s in &self.stages {
            match s.action {
                Action::Enabled => t.enabled += 1,
                Action::WouldEnable => t.would_enable += 1,
                Action::Skipped => t.skipped += 1,
                Action::Failed => t.failed += 1,
                Action::Resolved => t.resolved += 1,
            }
        }
        self.totals = t;
        self.status = if self.totals.failed > 0 || !self.errors.is_empty() {
            RunStatus::Partial
        } else {
            RunStatus::Complete
        };
        self.stages.sort_by(|a, b| a.stage.cmp(&b.stage));
        self.estimate_totals = self.prices.map(|prices| {
            let priced = self
                .stages
                .iter()
                .filter(|s| matches!(s.action, Action::Enabled | Action::WouldEnable))
                .filter_map(|s| Some((&s.stage.account, s.estimate.as_ref()?)));
            crate::estimate::totals(priced, &prices)
        });
    }
}

/// The stages of one account-region to decide on. `complete` is false
/// when a read failed (then nothing is changed here).
#[derive(Debug, Clone)]
pub struct RegionStages {
    pub at: AccountRegion,
    pub evaluations: Vec<Evaluation>,
    pub complete: bool,
    pub errors: Vec<ErrorEntry>,
    /// What Security Hub holds for these stages, when the caller has read
    /// it already (the scan before `auto`); `None`: read it before the
    /// PASSED findings are imported, to keep their CreatedAt.
    pub findings: Option<Vec<Finding>>,
    /// Cost estimates of stages that may be turned on, when priced.
    pub estimates: std::collections::BTreeMap<crate::model::StageRef, crate::cost::Estimate>,
}

/// What one remediation needs, shared by every account it covers.
#[derive(Clone, Copy)]
pub struct Remediator<'a> {
    pub env: &'a AwsEnv,
    pub cfg: &'a Config,
    pub me: &'a Identity,
    pub opts: &'a RemediateOptions,
    pub pacers: &'a Pacers,
}

/// Inventories every account-region of `plan` through the scan role, then
/// remediates (the CLI).
pub fn run<'a>(
    env: &'a AwsEnv,
    cfg: &'a Config,
    plan: &'a Plan,
    me: &'a Identity,
    opts: &'a RemediateOptions,
) -> BoxFuture<'a, RemediationReport> {
    async move {
        let pacers = Pacers::new(cfg.limits.apigw_rps, cfg.limits.securityhub_rps);
        let r = Remediator {
            env,
            cfg,
            me,
            opts,
            pacers: &pacers,
        };
        let r = &r;
        let work = plan
            .targets
            .iter()
            .cloned()
            .map(|account| -> AccountWork<'_> {
                async move {
                    match inventory_account(r, &account, plan).await {
                        Ok(regions) => r.account(&account, regions).await,
                        Err(e) => (Vec::new(), vec![e]),
                    }
                }
                .boxed()
            });
        let mut report = collect(RemediationReport::new(opts), work, cfg.limits.concurrency).await;
        // A named stage that matched nothing is said, and makes the run
        // partial: a typo must not look like "nothing to do".
        for named in &opts.stages {
            if !report.stages.iter().any(|s| named.names(&s.stage)) {
                report.errors.push(ErrorEntry::new(
                    ErrorKind::StageNotFound,
                    None,
                    Some(named.region),
                    format!(
                        "--stage {named}: no such stage in the accounts and regions remediated ({})",
                        plan.targets
                            .iter()
                            .map(AccountId::as_str)
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                ));
            }
        }
        report.finish();
        report
    }
    .boxed()
}

/// Remediates what `auto_plan` planned, `concurrency` accounts at a time.
pub async fn apply_plan(
    r: &Remediator<'_>,
    plan: Vec<(AccountId, Vec<RegionStages>)>,
) -> RemediationReport {
    let work = plan
        .into_iter()
        .map(|(account, regions)| async move { r.account(&account, regions).await }.boxed());
    collect(
        RemediationReport::new(r.opts),
        work,
        r.cfg.limits.concurrency,
    )
    .await
}

/// One account's remediation: its report lines and errors.
pub type AccountWork<'a> = BoxFuture<'a, (Vec<StageAction>, Vec<ErrorEntry>)>;

/// Runs the per-account work `concurrency` at a time into one report.
pub async fn collect<'a>(
    mut report: RemediationReport,
    work: impl Iterator<Item = AccountWork<'a>>,
    concurrency: usize,
) -> RemediationReport {
    let mut accounts = stream::iter(work).buffer_unordered(concurrency);
    while let Some((stages, errors)) = accounts.next().await {
        report.stages.extend(stages);
        report.errors.extend(errors);
    }
    report.finish();
    report
}

/// Every stage of the account's regions, through the read-only scan role.
async fn inventory_account(
    r: &Remediator<'_>,
    account: &AccountId,
    plan: &Plan,
) -> Result<Vec<RegionStages>, ErrorEntry> {
    let session = accounts::open_session(r.env, r.cfg, r.me, account)
        .await
        .map_err(|e| ErrorEntry::from(&e))?;
    let today = Utc::now().date_naive();
    let mut out = Vec::new();
    for region in &plan.regions {
        let at = AccountRegion::new(account.clone(), *region);
        let client = session.apigateway(at.region, &r.pacers.apigw);
        let inv = inventory::list_stages(&client, &at).await;
        let errors: Vec<ErrorEntry> = inv.errors.iter().map(ErrorEntry::from).collect();
        let evaluations: Vec<Evaluation> = inv
            .stages
            .iter()
            .cloned()
            .map(|s| evaluate(s, &r.cfg.exemptions, today))
            .collect();
        let mut estimates = std::collections::BTreeMap::new();
        if let Some(prices) = &r.opts.prices {
            // Only stages this run may turn on are priced.
            let targets: Vec<&crate::model::StageRecord> = evaluations
                .iter()
                .filter(|ev| ev.status() == crate::evaluate::Status::Failing)
                .filter(|ev| decide::decide(ev, &r.opts.stages) == decide::Decision::Enable)
                .map(|ev| &ev.stage)
                .collect();
            let series = crate::estimate::series_of(&inv.stages);
            // What could not be read is logged, and each estimate's notes
            // say what was assumed instead: never a failed remediation.
            let inputs = crate::estimate::Inputs {
                series: &series,
                rules: None,
                prices,
                now: Utc::now(),
            };
            let (found, _) =
                crate::estimate::estimate_region(&session, r.pacers, &at, &targets, inputs).await;
            estimates = found;
        }
        out.push(RegionStages {
            at,
            complete: inv.complete(),
            errors,
            evaluations,
            findings: None,
            estimates,
        });
    }
    Ok(out)
}
