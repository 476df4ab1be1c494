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
use tracing::{info, warn};

use crate::asff::Finding;
use crate::aws::accounts::{self, Identity};
use crate::aws::pacing::Pacers;
use crate::aws::{inventory, publish, remediation, AccountSession, AwsEnv};
use crate::config::Config;
use crate::evaluate::{evaluate, Evaluation};
use crate::model::{AccountId, AccountRegion, StageArn, StageRecord};
use crate::plan::Plan;
use crate::reconcile::{prepare, Coverage};
use crate::report::{ErrorEntry, RunStatus};
use crate::trigger::IgnoredFinding;

mod auto;
mod custom;
pub mod decide;
pub use auto::auto_plan;
pub use custom::custom_action;
use decide::{action, decide, Action, Decision, Requester, StageAction};

#[derive(Debug, Clone)]
pub struct RemediateOptions {
    /// Make the changes (else: report what would change, write nothing).
    pub apply: bool,
    /// Only these stages (empty: every stage in scope).
    pub stages: Vec<StageArn>,
    pub requested_by: Requester,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RemediationTotals {
    pub enabled: usize,
    pub would_enable: usize,
    pub skipped: usize,
    pub failed: usize,
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
            }
        }
        self.totals = t;
        self.status = if self.totals.failed > 0 || !self.errors.is_empty() {
            RunStatus::Partial
        } else {
            RunStatus::Complete
        };
        self.stages.sort_by(|a, b| a.stage.cmp(&b.stage));
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
        let report = RemediationReport::new(opts);
        collect(report, work, cfg.limits.concurrency).await
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
        out.push(RegionStages {
            at,
            complete: inv.complete(),
            errors: inv.errors.iter().map(ErrorEntry::from).collect(),
            evaluations: inv
                .stages
                .into_iter()
                .map(|s| evaluate(s, &r.cfg.exemptions, today))
                .collect(),
            findings: None,
        });
    }
    Ok(out)
}

impl Remediator<'_> {
    /// Decides and (with `apply`) changes one account's stages.
    pub async fn account(
        &self,
        account: &AccountId,
        regions: Vec<RegionStages>,
    ) -> (Vec<StageAction>, Vec<ErrorEntry>) {
        let mut stages = Vec::new();
        let mut errors = Vec::new();
        let mut to_enable: Vec<(&RegionStages, Vec<&Evaluation>)> = Vec::new();
        for g in &regions {
            errors.extend(g.errors.iter().cloned());
            let mut here = Vec::new();
            for ev in &g.evaluations {
                match decide(ev, &self.opts.stages) {
                    Decision::Leave => {}
                    Decision::Skip(why) => stages.push(action(ev, Action::Skipped, Some(why))),
                    // A partial inventory: nothing is changed in this account-region.
                    Decision::Enable if !g.complete => stages.push(action(
                        ev,
                        Action::Skipped,
                        Some(
                            "the inventory of this account-region failed; nothing is changed here"
                                .into(),
                        ),
                    )),
                    Decision::Enable if !self.opts.apply => {
                        stages.push(action(ev, Action::WouldEnable, None))
                    }
                    Decision::Enable => here.push(ev),
                }
            }
            if !here.is_empty() {
                to_enable.push((g, here));
            }
        }
        if to_enable.is_empty() {
            return (stages, errors);
        }
        let role = &self.cfg.remediation.role_name;
        let session =
            match accounts::open_session_as(self.env, self.cfg, self.me, account, role).await {
                Ok(s) => s,
                Err(e) => {
                    let why = crate::report::chain(&e);
                    for (_, evs) in &to_enable {
                        for ev in evs {
                            stages.push(action(ev, Action::Failed, Some(why.clone())));
                        }
                    }
                    errors.push(ErrorEntry::from(&e));
                    return (stages, errors);
                }
            };
        for (g, evs) in to_enable {
            let client = session.apigateway(g.at.region, &self.pacers.apigw);
            let mut fixed = Vec::new();
            for ev in evs {
                let s = &ev.stage.place;
                let requested_by = self.opts.requested_by.as_str();
                match remediation::enable_tracing(&client, s).await {
                    Ok(()) => {
                        info!(account = %s.account, region = %s.region, api_id = %s.api_id,
                              stage = %s.stage, before = ev.stage.tracing_enabled, after = true,
                              requested_by, "tracing enabled");
                        stages.push(action(ev, Action::Enabled, None));
                        fixed.push(StageRecord {
                            tracing_enabled: true,
                            ..ev.stage.clone()
                        });
                    }
                    Err(e) => {
                        let why = crate::report::chain(&e);
                        warn!(account = %s.account, region = %s.region, api_id = %s.api_id,
                              stage = %s.stage, requested_by, error = %why, "tracing not enabled");
                        stages.push(action(ev, Action::Failed, Some(why)));
                        errors.push(ErrorEntry::from(&e));
                    }
                }
            }
            errors.extend(self.publish_passed(&session, g, fixed).await);
        }
        (stages, errors)
    }

    /// Imports the fixed stages' findings as PASSED now, through the same
    /// findings step as the scan (CreatedAt kept), so Security Hub shows
    /// the fix before the next scan.
    async fn publish_passed(
        &self,
        session: &AccountSession,
        g: &RegionStages,
        fixed: Vec<StageRecord>,
    ) -> Vec<ErrorEntry> {
        if fixed.is_empty() {
            return Vec::new();
        }
        let read;
        let existing: &[Finding] = match &g.findings {
            Some(known) => known,
            None => {
                let reader = session.securityhub(g.at.region, &self.pacers.getfindings);
                match Box::pin(publish::existing_findings(&reader, &g.at)).await {
                    Ok(e) => {
                        read = e.ours;
                        &read
                    }
                    Err(e) => return vec![ErrorEntry::from(&e)],
                }
            }
        };
        let now = Utc::now();
        let today = now.date_naive();
        let evaluations: Vec<Evaluation> = fixed
            .into_iter()
            .map(|s| evaluate(s, &self.cfg.exemptions, today))
            .collect();
        let prepared = prepare(&evaluations, existing, Coverage::ObservedOnly, now);
        let mut errors: Vec<ErrorEntry> = prepared.invalid.iter().map(ErrorEntry::from).collect();
        let writer = session.securityhub(g.at.region, &self.pacers.securityhub);
        let out = Box::pin(publish::import_findings(&writer, &g.at, &prepared.batches)).await;
        errors.extend(out.errors.iter().map(ErrorEntry::from));
        errors
    }
}
