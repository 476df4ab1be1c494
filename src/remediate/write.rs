//! The writes of one account: decide each stage, read it again right
//! before changing it, UpdateStage, and import the PASSED findings through
//! the findings step. Every change is one audit line (target `audit`),
//! written as it happens, so even a killed run leaves a record of what it
//! changed.

use chrono::Utc;
use tracing::{info, warn};

use super::decide::{action, decide, Action, Decision, StageAction};
use super::{RegionStages, Remediator};
use crate::asff::{self, Compliance, Finding, RecordState};
use crate::aws::{accounts, publish, remediation, AccountSession};
use crate::evaluate::{evaluate, Evaluation, Status};
use crate::model::{AccountId, StageRecord};
use crate::reconcile::{prepare, Coverage};
use crate::report::ErrorEntry;

/// One account-region's work once decided: stages to turn tracing on for,
/// and traced stages whose finding may still say FAILED (with the line to
/// report when it does not: a named stage is always reported).
struct RegionWork<'a> {
    region: &'a RegionStages,
    enable: Vec<&'a Evaluation>,
    traced: Vec<(&'a Evaluation, Option<String>)>,
}

const PARTIAL_INVENTORY: &str =
    "the inventory of this account-region failed; nothing is changed here";

impl Remediator<'_> {
    /// Decides and (with `apply`) changes one account's stages; each stage
    /// turned on (or to turn on) carries its estimate, when priced.
    pub async fn account(
        &self,
        account: &AccountId,
        regions: Vec<RegionStages>,
    ) -> (Vec<StageAction>, Vec<ErrorEntry>) {
        let mut estimates: std::collections::BTreeMap<_, _> = regions
            .iter()
            .flat_map(|g| g.estimates.iter())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let (mut stages, errors) = self.decide_and_write(account, regions).await;
        for s in &mut stages {
            if matches!(s.action, Action::Enabled | Action::WouldEnable) {
                s.estimate = estimates.remove(&s.stage);
            }
        }
        (stages, errors)
    }

    async fn decide_and_write(
        &self,
        account: &AccountId,
        regions: Vec<RegionStages>,
    ) -> (Vec<StageAction>, Vec<ErrorEntry>) {
        let mut stages = Vec::new();
        let mut errors = Vec::new();
        let mut work = Vec::new();
        for g in &regions {
            errors.extend(g.errors.iter().cloned());
            let mut w = RegionWork {
                region: g,
                enable: Vec::new(),
                traced: Vec::new(),
            };
            for ev in &g.evaluations {
                match decide(ev, &self.opts.stages) {
                    Decision::Leave if ev.status() == Status::Passing => w.traced.push((ev, None)),
                    Decision::Leave => {}
                    Decision::Skip(why) if ev.status() == Status::Passing => {
                        w.traced.push((ev, Some(why)))
                    }
                    Decision::Skip(why) => stages.push(action(ev, Action::Skipped, Some(why))),
                    // A partial inventory: nothing is changed in this account-region.
                    Decision::Enable if !g.complete => {
                        stages.push(action(ev, Action::Skipped, Some(PARTIAL_INVENTORY.into())))
                    }
                    Decision::Enable if !self.opts.apply => {
                        stages.push(action(ev, Action::WouldEnable, None))
                    }
                    Decision::Enable => w.enable.push(ev),
                }
            }
            // Traced stages only matter for an apply that may write.
            if !self.opts.apply || !g.complete {
                for (ev, why) in w.traced.drain(..) {
                    if let Some(why) = why {
                        stages.push(action(ev, Action::Skipped, Some(why)));
                    }
                }
            }
            if !w.enable.is_empty() || !w.traced.is_empty() {
                work.push(w);
            }
        }
        if work.is_empty() {
            return (stages, errors);
        }
        let role = &self.cfg.remediation.role_name;
        let session =
            match accounts::open_session_as(self.env, self.cfg, self.me, account, role).await {
                Ok(s) => s,
                Err(e) => {
                    let why = crate::report::chain(&e);
                    for ev in work.iter().flat_map(|w| &w.enable) {
                        stages.push(action(ev, Action::Failed, Some(why.clone())));
                    }
                    errors.push(ErrorEntry::from(&e));
                    return (stages, errors);
                }
            };
        for w in work {
            let (more, errs) = self.region(&session, w).await;
            stages.extend(more);
            errors.extend(errs);
        }
        (stages, errors)
    }

    /// One account-region: what Security Hub holds (the caller's, or read
    /// now), each stage read again and changed, the PASSED findings sent.
    async fn region(
        &self,
        session: &AccountSession,
        w: RegionWork<'_>,
    ) -> (Vec<StageAction>, Vec<ErrorEntry>) {
        let g = w.region;
        let mut stages = Vec::new();
        let mut errors = Vec::new();
        let read;
        let existing: Option<&[Finding]> = match &g.findings {
            Some(known) => Some(known),
            None => {
                let reader = session.securityhub(g.at.region, &self.pacers.getfindings);
                match Box::pin(publish::existing_findings(
                    &reader,
                    &g.at,
                    &[crate::asff::GENERATOR_ID],
                    None,
                ))
                .await
                {
                    Ok(e) => {
                        read = e.ours;
                        Some(&read)
                    }
                    Err(e) => {
                        // Without them an import would reset CreatedAt: the
                        // stages are still fixed, their findings follow at
                        // the next scan.
                        errors.push(ErrorEntry::from(&e));
                        None
                    }
                }
            }
        };
        let mut fixed: Vec<StageRecord> = Vec::new();
        // A rerun after an interruption converges: a stage already traced
        // whose finding still says FAILED gets its PASSED finding now.
        for (ev, named) in w.traced {
            let id = asff::finding_id(&ev.stage.place);
            let stale = existing.unwrap_or_default().iter().any(|f| {
                f.id == id
                    && f.compliance.status == Compliance::Failed
                    && f.record_state == RecordState::Active
            });
            if stale {
                stages.push(action(
                    ev,
                    Action::Resolved,
                    Some("already traced; its FAILED finding is now PASSED".into()),
                ));
                fixed.push(ev.stage.clone());
            } else if let Some(why) = named {
                stages.push(action(ev, Action::Skipped, Some(why)));
            }
        }
        let client = session.apigateway(g.at.region, &self.pacers.apigw);
        let today = Utc::now().date_naive();
        for ev in w.enable {
            let s = &ev.stage.place;
            // Read again right before the write: tagged exempt or
            // no-remediate, or traced, since the inventory means no change.
            let now = match remediation::get_stage(&client, s).await {
                Ok(Some(stage)) => evaluate(stage, &self.cfg.exemptions, today),
                Ok(None) => {
                    stages.push(action(
                        ev,
                        Action::Skipped,
                        Some("the stage no longer exists".into()),
                    ));
                    continue;
                }
                Err(e) => {
                    stages.push(action(ev, Action::Failed, Some(crate::report::chain(&e))));
                    errors.push(ErrorEntry::from(&e));
                    continue;
                }
            };
            match decide(&now, &self.opts.stages) {
                Decision::Enable => {}
                Decision::Skip(why) => {
                    stages.push(action(
                        ev,
                        Action::Skipped,
                        Some(format!("{why} (read again before the change)")),
                    ));
                    continue;
                }
                Decision::Leave => {
                    stages.push(action(
                        ev,
                        Action::Skipped,
                        Some("already traced (read again before the change)".into()),
                    ));
                    continue;
                }
            }
            let requested_by = self.opts.requested_by.as_str();
            match remediation::enable_tracing(&client, s).await {
                Ok(()) => {
                    info!(target: "audit", account = %s.account, region = %s.region, api_id = %s.api_id,
                          stage = %s.stage, before = false, after = true, requested_by,
                          "tracing enabled");
                    stages.push(action(ev, Action::Enabled, None));
                    fixed.push(StageRecord {
                        tracing_enabled: true,
                        ..now.stage
                    });
                }
                Err(e) => {
                    let why = crate::report::chain(&e);
                    warn!(target: "audit", account = %s.account, region = %s.region, api_id = %s.api_id,
                          stage = %s.stage, requested_by, error = %why, "tracing not enabled");
                    stages.push(action(ev, Action::Failed, Some(why)));
                    errors.push(ErrorEntry::from(&e));
                }
            }
        }
        if let Some(existing) = existing {
            errors.extend(self.publish_passed(session, g, fixed, existing).await);
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
        existing: &[Finding],
    ) -> Vec<ErrorEntry> {
        if fixed.is_empty() {
            return Vec::new();
        }
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
