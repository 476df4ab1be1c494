//! Security Hub custom action: the selected findings (read by
//! `trigger::custom`) inside the configured scope are acted on, each stage
//! read again first: it may have changed, or been exempted, since the
//! finding was written.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use futures::FutureExt;

use super::decide::{Action, StageAction};
use super::{collect, RegionStages, RemediationReport, Remediator};
use crate::aws::{accounts, remediation};
use crate::config::AccountSource;
use crate::evaluate::evaluate;
use crate::model::{AccountId, StageArn};
use crate::report::ErrorEntry;
use crate::trigger::{CustomAction, FindingTarget, IgnoredFinding};

/// Acts on the targets inside the configured scope, through the
/// remediation role.
pub async fn custom_action(r: &Remediator<'_>, event: CustomAction) -> RemediationReport {
    let CustomAction { targets, ignored } = event;
    let mut report = RemediationReport::new(r.opts);
    report.ignored = ignored;
    // Scope: as for any event (excluded accounts, the configured list and
    // regions); with the organization as the account set, its members.
    let organization: Option<BTreeSet<AccountId>> = match &r.cfg.accounts {
        AccountSource::Fixed(_) => None,
        AccountSource::Organization => match accounts::organization_accounts(r.env).await {
            Ok(list) => Some(list.into_iter().collect()),
            Err(e) => {
                report.errors.push(ErrorEntry::from(&e));
                Some(BTreeSet::new())
            }
        },
    };
    let regions = crate::plan::regions(r.cfg, &Default::default(), r.env.home_region().as_deref())
        .unwrap_or_default();
    let mut by_account: BTreeMap<AccountId, Vec<FindingTarget>> = BTreeMap::new();
    for t in targets {
        let account = &t.stage.account;
        let outside =
            crate::plan::outside_scope(r.cfg, &regions, account, t.stage.region).or_else(|| {
                organization
                    .as_ref()
                    .filter(|org| !org.contains(account))
                    .map(|_| "the account is not an ACTIVE account of the organization")
            });
        match outside {
            None => by_account.entry(account.clone()).or_default().push(t),
            Some(reason) => report.ignored.push(IgnoredFinding {
                finding_id: t.finding_id,
                reason: reason.into(),
            }),
        }
    }
    let work = by_account
        .into_iter()
        .map(|(account, targets)| async move { reread(r, &account, &targets).await }.boxed());
    // One account at a time: a custom action names a handful of findings.
    collect(report, work, 1).await
}

/// Reads each target stage again through the scan role, then decides and
/// acts on exactly those stages.
async fn reread(
    r: &Remediator<'_>,
    account: &AccountId,
    targets: &[FindingTarget],
) -> (Vec<StageAction>, Vec<ErrorEntry>) {
    let session = match accounts::open_session(r.env, r.cfg, r.me, account).await {
        Ok(s) => s,
        Err(e) => return (Vec::new(), vec![ErrorEntry::from(&e)]),
    };
    let today = Utc::now().date_naive();
    let mut gone = Vec::new();
    let mut regions: BTreeMap<_, RegionStages> = BTreeMap::new();
    for t in targets {
        let at = t.stage.account_region();
        let region = regions.entry(at.clone()).or_insert_with(|| RegionStages {
            at,
            evaluations: Vec::new(),
            complete: true,
            errors: Vec::new(),
            findings: None,
            estimates: BTreeMap::new(),
        });
        let client = session.apigateway(t.stage.region, &r.pacers.apigw);
        match remediation::get_stage(&client, &t.stage).await {
            Ok(Some(stage)) => region
                .evaluations
                .push(evaluate(stage, &r.cfg.exemptions, today)),
            Ok(None) => gone.push(StageAction {
                stage: t.stage.clone(),
                action: Action::Skipped,
                patch: None,
                reason: Some("the stage no longer exists".into()),
                estimate: None,
            }),
            Err(e) => {
                region.complete = false;
                region.errors.push(ErrorEntry::from(&e));
            }
        }
    }
    if let Some(prices) = &r.opts.prices {
        price(r, &session, regions.values_mut(), prices).await;
    }
    let named = super::RemediateOptions {
        stages: targets.iter().map(|t| StageArn::from(&t.stage)).collect(),
        ..r.opts.clone()
    };
    let only_these = Remediator { opts: &named, ..*r };
    let (mut stages, errors) = only_these
        .account(account, regions.into_values().collect())
        .await;
    stages.extend(gone);
    (stages, errors)
}

/// The estimate of each target stage that would be turned on, logged one
/// line per stage (the custom action's answer carries them too).
async fn price(
    r: &Remediator<'_>,
    session: &crate::aws::AccountSession,
    regions: impl Iterator<Item = &mut RegionStages>,
    prices: &crate::cost::Prices,
) {
    for g in regions {
        let failing: Vec<usize> = (0..g.evaluations.len())
            .filter(|i| g.evaluations[*i].status() == crate::evaluate::Status::Failing)
            .collect();
        if failing.is_empty() {
            continue;
        }
        let apigw = session.apigateway(g.at.region, &r.pacers.apigw);
        let mut stages: Vec<_> = failing
            .iter()
            .map(|i| g.evaluations[*i].stage.clone())
            .collect();
        let series = match crate::estimate::api_names(&apigw).await {
            Ok(names) => crate::estimate::named(&mut stages, &names),
            Err(why) => {
                tracing::warn!(account = %g.at.account, region = %g.at.region, error = %why, "API names not read; estimates have no traffic");
                Default::default()
            }
        };
        let targets: Vec<&crate::model::StageRecord> = stages.iter().collect();
        let inputs = crate::estimate::Inputs {
            series: &series,
            rules: None,
            prices,
            now: Utc::now(),
        };
        let (found, _) =
            crate::estimate::estimate_region(session, r.pacers, &g.at, &targets, inputs).await;
        for (stage, e) in &found {
            tracing::info!(
                account = %stage.account,
                region = %stage.region,
                api_id = %stage.api_id,
                stage = %stage.stage,
                estimate = %e.summary(),
                rule = %e.rule,
                "what tracing this stage would cost"
            );
        }
        g.estimates = found;
    }
}
