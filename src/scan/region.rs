//! One account-region: inventory, evaluate, reconcile with what Security
//! Hub holds, check each finding, publish.

use tracing::{info, instrument, warn};

use super::Ctx;
use crate::asff::{self, Finding};
use crate::aws::{inventory, publish, AccountSession};
use crate::evaluate::{evaluate, Status};
use crate::reconcile::reconcile;
use crate::report::{ErrorEntry, RegionResult};

pub(super) struct RegionOutput {
    pub result: RegionResult,
    pub errors: Vec<ErrorEntry>,
    pub warnings: Vec<ErrorEntry>,
    pub findings: Vec<Finding>,
    /// Stages each configured exemption matched (by index).
    pub rule_matches: Vec<usize>,
}

#[instrument(skip_all, fields(account = %session.account, region = %region))]
pub(super) async fn scan_region(
    ctx: &Ctx<'_>,
    session: &AccountSession,
    region: &str,
) -> RegionOutput {
    let account = &session.account;
    let apigw = session.apigateway(region, &ctx.pacers.apigw);
    // A change event rescans one API: one GetStages, no GetRestApis.
    let inv = match ctx.api_id {
        Some(api_id) => inventory::list_api_stages(&apigw, account, region, api_id).await,
        None => inventory::list_stages(&apigw, account, region).await,
    };
    let mut warnings = Vec::new();
    let mut errors: Vec<ErrorEntry> = inv.errors.iter().map(ErrorEntry::from).collect();
    let mut result = RegionResult {
        account: account.to_string(),
        region: region.to_owned(),
        apis: inv.apis,
        stages: inv.stages.len(),
        inventory_complete: inv.complete(),
        ..RegionResult::default()
    };

    let today = ctx.now.date_naive();
    let mut evaluations = Vec::with_capacity(inv.stages.len());
    for stage in inv.stages {
        let ev = evaluate(stage, &ctx.cfg.exemptions, today);
        match ev.status() {
            Status::Failing => result.failing += 1,
            Status::Passing => result.passing += 1,
            Status::Exempt => result.exempt += 1,
        }
        for problem in &ev.problems {
            warnings.push(ErrorEntry::invalid_exemption(
                account.as_str(),
                region,
                &ev.stage.api_id,
                &ev.stage.stage_name,
                problem,
            ));
        }
        evaluations.push(ev);
    }
    let mut rule_matches = vec![0; ctx.cfg.exemptions.len()];
    for index in evaluations.iter().filter_map(|ev| ev.matched_rule) {
        rule_matches[index] += 1;
    }

    // A dry run reads nothing from Security Hub and sends nothing: it shows
    // the findings of the stages observed now.
    // Two clients: GetFindings and BatchImportFindings have their own quotas.
    let hubs = (!ctx.dry_run).then(|| {
        (
            session.securityhub(region, &ctx.pacers.getfindings),
            session.securityhub(region, &ctx.pacers.securityhub),
        )
    });
    let existing = match &hubs {
        None => Vec::new(),
        Some((reader, _)) => {
            match publish::existing_findings(reader, account, region).await {
                Ok(existing) => {
                    warnings.extend(existing.foreign.iter().map(ErrorEntry::from));
                    match ctx.api_id {
                        // Reconciled and archived for this API only.
                        Some(api_id) => {
                            let prefix = format!(
                                "{}/{}/{account}/{region}/{api_id}/",
                                asff::GENERATOR_ID,
                                crate::model::partition_of(region)
                            );
                            existing
                                .ours
                                .into_iter()
                                .filter(|f| f.id.starts_with(&prefix))
                                .collect()
                        }
                        None => existing.ours,
                    }
                }
                Err(e) => {
                    // Without the existing findings, an import would reset
                    // CreatedAt and could not archive: leave this
                    // account-region exactly as it is until the next run.
                    warn!(error = %crate::report::chain(&e), "cannot read existing findings");
                    errors.push(ErrorEntry::from(&e));
                    result.not_imported = evaluations.len();
                    result.errors = errors.len();
                    return RegionOutput {
                        result,
                        rule_matches: rule_matches.clone(),
                        errors,
                        warnings,
                        findings: Vec::new(),
                    };
                }
            }
        }
    };
    let rec = reconcile(&evaluations, &existing, result.inventory_complete, ctx.now);
    drop(existing);
    result.archived = rec.archived;
    result.archive_withheld = rec.archive_withheld;

    let mut findings = Vec::with_capacity(rec.findings.len());
    let mut sizes = Vec::with_capacity(rec.findings.len());
    for finding in rec.findings {
        match asff::validate(&finding) {
            Ok(bytes) => {
                findings.push(finding);
                sizes.push(bytes);
            }
            Err(bad) => {
                warn!(finding_id = %bad.id, error = %bad, "finding not sent: breaks ASFF rules");
                result.not_imported += 1;
                errors.push(ErrorEntry::from(&bad));
            }
        }
    }

    if let (Some((_, writer)), false) = (&hubs, findings.is_empty()) {
        let out = Box::pin(publish::import_findings(
            writer, account, region, &findings, &sizes,
        ))
        .await;
        result.imported = out.imported;
        result.not_imported += out.not_imported;
        errors.extend(out.errors.iter().map(ErrorEntry::from));
    }
    result.errors = errors.len();
    info!(
        apis = result.apis,
        stages = result.stages,
        failing = result.failing,
        passing = result.passing,
        exempt = result.exempt,
        archived = result.archived,
        imported = result.imported,
        errors = result.errors,
        "account-region scanned"
    );
    RegionOutput {
        result,
        rule_matches: rule_matches.clone(),
        errors,
        warnings,
        findings: if ctx.opts.collect_findings {
            findings
        } else {
            Vec::new()
        },
    }
}
