//! `remediate`: turn X-Ray tracing on where the check fails, through a
//! separate, write-capable member role. Scans the scope as `scan` does
//! (read role), decides per stage (`decide`, pure), and with `apply` sends
//! one UpdateStage per stage, reads it back, and imports that stage's
//! finding as PASSED at once (same Id, CreatedAt kept). Without `apply`
//! nothing is written: no UpdateStage, no BatchImportFindings.

use std::collections::BTreeMap;

use chrono::Utc;
use futures::future::BoxFuture;
use futures::{stream, FutureExt, StreamExt};
use serde::Serialize;
use tracing::{info, warn};

use crate::asff::{self, build_finding, FirstSeen};
use crate::aws::accounts::{self, Identity};
use crate::aws::pacing::Pacers;
use crate::aws::{inventory, publish, remediation, AccountSession, AwsEnv};
use crate::config::Config;
use crate::evaluate::{evaluate, Evaluation};
use crate::model::{AccountId, StageRecord};
use crate::plan::Plan;
use crate::report::{ErrorEntry, RunStatus};

pub mod decide;
use decide::{action, decide, Action, Decision, Requester, StageAction, StageArn};

#[derive(Debug, Clone)]
pub struct RemediateOptions {
    /// Make the changes (else: report what would change, write nothing).
    pub apply: bool,
    /// Only these stages (empty: every stage in scope).
    pub stages: Vec<StageArn>,
    pub requested_by: Requester,
    /// The member role that may write (`apigw-tracing-remediate`).
    pub role_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
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
    pub totals: Totals,
    pub stages: Vec<StageAction>,
    pub errors: Vec<ErrorEntry>,
    /// Custom action: findings that were not acted on, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<Ignored>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ignored {
    pub finding_id: String,
    pub reason: String,
}

impl RemediationReport {
    pub fn new(opts: &RemediateOptions) -> Self {
        Self {
            apply: opts.apply,
            requested_by: opts.requested_by,
            status: RunStatus::Complete,
            totals: Totals::default(),
            stages: Vec::new(),
            errors: Vec::new(),
            ignored: Vec::new(),
        }
    }

    pub fn finish(&mut self) {
        let mut t = Totals::default();
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
        self.stages.sort_by(|a, b| {
            (&a.account, &a.region, &a.api_id, &a.stage)
                .cmp(&(&b.account, &b.region, &b.api_id, &b.stage))
        });
    }
}

/// Stages of one account-region to decide on (from an inventory, or read
/// one by one for a custom action); `complete` is false when a read failed.
pub struct Gathered {
    pub region: String,
    pub evaluations: Vec<Evaluation>,
    pub complete: bool,
    pub errors: Vec<ErrorEntry>,
}

/// Remediates every account-region of `plan`.
pub fn run<'a>(
    env: &'a AwsEnv,
    cfg: &'a Config,
    plan: &'a Plan,
    me: &'a Identity,
    opts: &'a RemediateOptions,
) -> BoxFuture<'a, RemediationReport> {
    async move {
        let pacers = Pacers::new(cfg.apigw_rps, cfg.securityhub_rps);
        let mut report = RemediationReport::new(opts);
        let pacers = &pacers;
        let mut accounts = stream::iter(plan.targets.clone())
            .map(
                |account| -> BoxFuture<'_, (Vec<StageAction>, Vec<ErrorEntry>)> {
                    async move {
                        let gathered =
                            match gather_inventory(env, cfg, me, &account, &plan.regions, pacers)
                                .await
                            {
                                Ok(g) => g,
                                Err(e) => return (Vec::new(), vec![e]),
                            };
                        act(env, cfg, me, &account, gathered, opts, pacers).await
                    }
                    .boxed()
                },
            )
            .buffer_unordered(cfg.concurrency);
        while let Some((stages, errors)) = accounts.next().await {
            report.stages.extend(stages);
            report.errors.extend(errors);
        }
        report.finish();
        report
    }
    .boxed()
}

/// Every stage of the account's regions, through the read-only scan role.
async fn gather_inventory(
    env: &AwsEnv,
    cfg: &Config,
    me: &Identity,
    account: &AccountId,
    regions: &[String],
    pacers: &Pacers,
) -> Result<Vec<Gathered>, ErrorEntry> {
    let session = accounts::open_session(env, cfg, me, account)
        .await
        .map_err(|e| ErrorEntry::from(&e))?;
    let today = Utc::now().date_naive();
    let mut out = Vec::new();
    for region in regions {
        let client = session.apigateway(region, &pacers.apigw);
        let inv = inventory::list_stages(&client, account, region).await;
        out.push(Gathered {
            region: region.clone(),
            complete: inv.complete(),
            errors: inv.errors.iter().map(ErrorEntry::from).collect(),
            evaluations: inv
                .stages
                .into_iter()
                .map(|s| evaluate(s, &cfg.exemptions, today))
                .collect(),
        });
    }
    Ok(out)
}

/// Decides and (with `apply`) changes one account's stages.
pub async fn act(
    env: &AwsEnv,
    cfg: &Config,
    me: &Identity,
    account: &AccountId,
    gathered: Vec<Gathered>,
    opts: &RemediateOptions,
    pacers: &Pacers,
) -> (Vec<StageAction>, Vec<ErrorEntry>) {
    let mut stages = Vec::new();
    let mut errors = Vec::new();
    let mut to_enable: Vec<(String, Vec<&Evaluation>)> = Vec::new();
    for g in &gathered {
        errors.extend(g.errors.iter().cloned());
        let mut here = Vec::new();
        for ev in &g.evaluations {
            match decide(ev, &opts.stages) {
                Decision::Leave => {}
                Decision::Skip(why) => stages.push(action(account, ev, Action::Skipped, Some(why))),
                // A partial inventory: nothing is changed in this account-region.
                Decision::Enable if !g.complete => stages.push(action(
                    account,
                    ev,
                    Action::Skipped,
                    Some(
                        "the inventory of this account-region failed; nothing is changed here"
                            .into(),
                    ),
                )),
                Decision::Enable if !opts.apply => {
                    stages.push(action(account, ev, Action::WouldEnable, None))
                }
                Decision::Enable => here.push(ev),
            }
        }
        if !here.is_empty() {
            to_enable.push((g.region.clone(), here));
        }
    }
    if to_enable.is_empty() {
        return (stages, errors);
    }
    let session = match accounts::open_session_as(env, cfg, me, account, &opts.role_name).await {
        Ok(s) => s,
        Err(e) => {
            let why = crate::report::chain(&e);
            for (_, evs) in &to_enable {
                for ev in evs {
                    stages.push(action(account, ev, Action::Failed, Some(why.clone())));
                }
            }
            errors.push(ErrorEntry::from(&e));
            return (stages, errors);
        }
    };
    for (region, evs) in to_enable {
        let client = session.apigateway(&region, &pacers.apigw);
        let mut fixed = Vec::new();
        for ev in evs {
            let s = &ev.stage;
            match remediation::enable_tracing(&client, account, &region, &s.api_id, &s.stage_name)
                .await
            {
                Ok(()) => {
                    info!(
                        account = %account,
                        region = %region,
                        api_id = %s.api_id,
                        stage = %s.stage_name,
                        before = s.tracing_enabled,
                        after = true,
                        requested_by = opts.requested_by.as_str(),
                        "tracing enabled"
                    );
                    stages.push(action(account, ev, Action::Enabled, None));
                    fixed.push(StageRecord {
                        tracing_enabled: true,
                        ..s.clone()
                    });
                }
                Err(e) => {
                    warn!(account = %account, region = %region, api_id = %s.api_id, stage = %s.stage_name,
                          requested_by = opts.requested_by.as_str(), error = %crate::report::chain(&e), "tracing not enabled");
                    stages.push(action(
                        account,
                        ev,
                        Action::Failed,
                        Some(crate::report::chain(&e)),
                    ));
                    errors.push(ErrorEntry::from(&e));
                }
            }
        }
        errors.extend(publish_passed(cfg, &session, account, &region, fixed, pacers).await);
    }
    (stages, errors)
}

/// Imports the fixed stages' findings as PASSED now, keeping each one's
/// CreatedAt, so Security Hub shows the fix before the next scan.
async fn publish_passed(
    cfg: &Config,
    session: &AccountSession,
    account: &AccountId,
    region: &str,
    fixed: Vec<StageRecord>,
    pacers: &Pacers,
) -> Vec<ErrorEntry> {
    if fixed.is_empty() {
        return Vec::new();
    }
    let reader = session.securityhub(region, &pacers.getfindings);
    let existing = match Box::pin(publish::existing_findings(&reader, account, region)).await {
        Ok(e) => e.ours,
        Err(e) => return vec![ErrorEntry::from(&e)],
    };
    let first_seen: BTreeMap<&str, FirstSeen> = existing
        .iter()
        .map(|f| {
            (
                f.id.as_str(),
                FirstSeen {
                    created_at: f.created_at.clone(),
                    first_observed_at: f.first_observed_at.clone(),
                },
            )
        })
        .collect();
    let now = Utc::now();
    let today = now.date_naive();
    let mut findings = Vec::new();
    let mut sizes = Vec::new();
    let mut errors = Vec::new();
    for stage in fixed {
        let id = asff::finding_id(&stage);
        let f = build_finding(
            &evaluate(stage, &cfg.exemptions, today),
            now,
            first_seen.get(id.as_str()),
        );
        match asff::validate(&f) {
            Ok(size) => {
                findings.push(f);
                sizes.push(size);
            }
            Err(bad) => errors.push(ErrorEntry::from(&bad)),
        }
    }
    let writer = session.securityhub(region, &pacers.securityhub);
    let out = Box::pin(publish::import_findings(
        &writer, account, region, &findings, &sizes,
    ))
    .await;
    errors.extend(out.errors.iter().map(ErrorEntry::from));
    errors
}

pub mod cli;
mod custom;
pub use custom::{custom_action, parse_custom_action, CustomActionError, FindingTarget};
