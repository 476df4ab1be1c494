//! Security Hub custom action ("Enable X-Ray tracing"): EventBridge brings
//! the selected findings in full ASFF. Only this product's FAILED findings
//! are acted on, each stage read again first (it may have changed, or been
//! exempted, since the finding was written); the rest are reported ignored.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use serde_json::Value;

use super::decide::{Action, StageArn};
use super::{act, Gathered, Ignored, RemediateOptions, RemediationReport};
use crate::asff::{is_our_id, GENERATOR_ID};
use crate::aws::accounts::{self, Identity};
use crate::aws::pacing::Pacers;
use crate::aws::{remediation, AwsEnv};
use crate::config::{AccountSource, Config};
use crate::evaluate::evaluate;
use crate::model::{quote, AccountId};
use crate::report::ErrorEntry;

/// A finding to act on: whose stage, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingTarget {
    pub finding_id: String,
    pub account: AccountId,
    pub stage: StageArn,
}

#[derive(Debug, thiserror::Error)]
pub enum CustomActionError {
    #[error("custom action event without detail.findings (an array)")]
    NoFindings,
}

/// Splits the event's findings into targets and ignored ones.
pub fn parse_custom_action(
    event: &Value,
) -> Result<(Vec<FindingTarget>, Vec<Ignored>), CustomActionError> {
    let findings = event["detail"]["findings"]
        .as_array()
        .ok_or(CustomActionError::NoFindings)?;
    let mut targets = Vec::new();
    let mut ignored = Vec::new();
    for f in findings {
        let id = f["Id"].as_str().unwrap_or_default().to_owned();
        let mut ignore = |reason: String| {
            ignored.push(Ignored {
                finding_id: id.clone(),
                reason,
            })
        };
        if f["GeneratorId"] != GENERATOR_ID {
            ignore(format!(
                "not this product's finding (GeneratorId {})",
                quote(f["GeneratorId"].as_str().unwrap_or_default())
            ));
            continue;
        }
        if f["Compliance"]["Status"] != "FAILED" {
            ignore("not FAILED: nothing to fix".into());
            continue;
        }
        let Ok(account) = AccountId::parse(f["AwsAccountId"].as_str().unwrap_or_default()) else {
            ignore("no valid AwsAccountId".into());
            continue;
        };
        let resource = f["Resources"][0]["Id"].as_str().unwrap_or_default();
        let stage = match StageArn::parse(resource) {
            Ok(s) => s,
            Err(why) => {
                ignore(why);
                continue;
            }
        };
        if !is_our_id(&id, account.as_str(), &stage.region) {
            ignore("its Id is not of the shape this product writes".into());
            continue;
        }
        targets.push(FindingTarget {
            finding_id: id,
            account,
            stage,
        });
    }
    Ok((targets, ignored))
}

/// Acts on the targets inside the configured scope, through the
/// remediation role; the stage is read again first.
pub async fn custom_action(
    env: &AwsEnv,
    cfg: &Config,
    me: &Identity,
    targets: Vec<FindingTarget>,
    ignored: Vec<Ignored>,
    opts: &RemediateOptions,
) -> RemediationReport {
    let mut report = RemediationReport::new(opts);
    report.ignored = ignored;
    // Scope: as for any event (excluded accounts, the configured list and
    // regions); with the organization as the account set, its members.
    let organization: Option<BTreeSet<AccountId>> = match &cfg.accounts {
        AccountSource::Fixed(_) => None,
        AccountSource::Organization => match accounts::organization_accounts(env).await {
            Ok(list) => Some(list.into_iter().collect()),
            Err(e) => {
                report.errors.push(ErrorEntry::from(&e));
                Some(BTreeSet::new())
            }
        },
    };
    let regions = crate::plan::regions(cfg, &Default::default(), env.home_region().as_deref())
        .unwrap_or_default();
    let mut by_account: BTreeMap<AccountId, Vec<FindingTarget>> = BTreeMap::new();
    for t in targets {
        let outside = crate::plan::outside_scope(cfg, &regions, &t.account, &t.stage.region)
            .or_else(|| {
                organization
                    .as_ref()
                    .filter(|org| !org.contains(&t.account))
                    .map(|_| "the account is not an ACTIVE account of the organization")
            });
        match outside {
            None => by_account.entry(t.account.clone()).or_default().push(t),
            Some(reason) => report.ignored.push(Ignored {
                finding_id: t.finding_id,
                reason: reason.into(),
            }),
        }
    }
    let pacers = Pacers::new(cfg.apigw_rps, cfg.securityhub_rps);
    let today = Utc::now().date_naive();
    for (account, targets) in by_account {
        let session = match accounts::open_session(env, cfg, me, &account).await {
            Ok(s) => s,
            Err(e) => {
                report.errors.push(ErrorEntry::from(&e));
                continue;
            }
        };
        let mut gathered: BTreeMap<String, Gathered> = BTreeMap::new();
        for t in &targets {
            let region = &t.stage.region;
            let g = gathered.entry(region.clone()).or_insert_with(|| Gathered {
                region: region.clone(),
                evaluations: Vec::new(),
                complete: true,
                errors: Vec::new(),
            });
            let client = session.apigateway(region, &pacers.apigw);
            match remediation::get_stage(&client, &account, region, &t.stage.api_id, &t.stage.stage)
                .await
            {
                Ok(Some(stage)) => g.evaluations.push(evaluate(stage, &cfg.exemptions, today)),
                Ok(None) => report.stages.push(super::decide::StageAction {
                    account: account.to_string(),
                    region: region.clone(),
                    api_id: t.stage.api_id.clone(),
                    stage: t.stage.stage.clone(),
                    action: Action::Skipped,
                    patch: None,
                    reason: Some("the stage no longer exists".into()),
                }),
                Err(e) => {
                    g.complete = false;
                    g.errors.push(ErrorEntry::from(&e));
                }
            }
        }
        let named = RemediateOptions {
            stages: targets.iter().map(|t| t.stage.clone()).collect(),
            ..opts.clone()
        };
        let (stages, errors) = act(
            env,
            cfg,
            me,
            &account,
            gathered.into_values().collect(),
            &named,
            &pacers,
        )
        .await;
        report.stages.extend(stages);
        report.errors.extend(errors);
    }
    report.finish();
    report
}
