//! One account-region: read (the stages, and what Security Hub holds for
//! them), decide (evaluate, then the findings step), write (import).

use tracing::{info, instrument, warn};

use super::path::{read_paths, PathRead};
use super::sampling::{read_sampling, SamplingRead};
use super::Ctx;
use crate::asff::{self, Finding};
use crate::aws::inventory::{self, Inventory};
use crate::aws::publish::{self, Existing, PublishError};
use crate::aws::AccountSession;
use crate::config::SamplingMode;
use crate::evaluate::{evaluate, Evaluation, Status};
use crate::model::{AccountRegion, Region};
use crate::reconcile::{reconcile, Coverage, Prepared};
use crate::report::{ErrorEntry, RegionResult};
use crate::sampling::SamplingStatus;
use crate::trace_path::{PathEvaluation, PathStatus};

pub(super) struct RegionOutput {
    pub result: RegionResult,
    pub errors: Vec<ErrorEntry>,
    pub warnings: Vec<ErrorEntry>,
    /// Every finding built (only with `collect_findings`).
    pub findings: Vec<Finding>,
    /// Stages each configured exemption matched (by index).
    pub rule_matches: Vec<usize>,
    /// Failing stages handed to remediation (only for the accounts
    /// `hand_over` allows), with the finding built for each.
    pub failing: Vec<(Evaluation, Finding)>,
    /// FAILED trace paths (only with `keep_failed_paths`).
    pub failed_paths: Vec<PathEvaluation>,
}

/// What was read: the stages, and (unless a dry run) the findings Security
/// Hub holds for them.
struct Read {
    inventory: Inventory,
    paths: PathRead,
    sampling: SamplingRead,
    /// `--cost on`: what tracing each untraced stage would cost.
    estimates: Estimates,
    existing: Option<Result<Existing, PublishError>>,
}

#[instrument(skip_all, fields(account = %session.account, region = %region))]
pub(super) async fn scan_region(
    ctx: &Ctx<'_>,
    session: &AccountSession,
    region: Region,
) -> RegionOutput {
    let at = AccountRegion::new(session.account.clone(), region);
    let read = read(ctx, session, &at).await;
    let mut out = decide(ctx, &at, read);
    if let Some(prepared) = out.1.take() {
        write(ctx, session, &at, &mut out.0, prepared).await;
    }
    let out = out.0;
    let r = &out.result;
    info!(
        apis = r.apis,
        stages = r.stages,
        failing = r.failing,
        passing = r.passing,
        exempt = r.exempt,
        archived = r.archived,
        paths = r.paths,
        paths_failed = r.paths_failed,
        sampling_failed = r.sampling_failed,
        sampling_warning = r.sampling_warning,
        imported = r.imported,
        errors = r.errors,
        "account-region scanned"
    );
    out
}

/// The inventory (a change event's one API: one GetStages, no
/// GetRestApis), then the findings Security Hub holds. A dry run reads
/// nothing from Security Hub.
async fn read(ctx: &Ctx<'_>, session: &AccountSession, at: &AccountRegion) -> Read {
    let apigw = session.apigateway(at.region, &ctx.pacers.apigw);
    let apis = ctx.apis.and_then(|all| all.get(at));
    let inventory = match apis {
        Some(apis) => {
            let mut all = Inventory::default();
            for api_id in apis {
                all.absorb(inventory::list_api_stages(&apigw, at, api_id).await);
            }
            all
        }
        None => inventory::list_stages(&apigw, at).await,
    };
    let paths = Box::pin(read_paths(ctx, session, at, &inventory.stages)).await;
    let sampling = Box::pin(read_sampling(ctx, session, at, &inventory.stages)).await;
    let estimates = Box::pin(read_estimates(
        ctx,
        session,
        at,
        &inventory.stages,
        sampling.rules.as_deref(),
    ))
    .await;
    // GetFindings has its own quota (3/s): its own pacer. For change
    // events, only the named APIs' findings are asked for.
    let existing = if ctx.dry_run {
        None
    } else {
        let reader = session.securityhub(at.region, &ctx.pacers.getfindings);
        let only: Option<Vec<String>> = apis.map(|apis| apis.iter().cloned().collect());
        let generators = generators(ctx);
        let read = publish::existing_findings(&reader, at, &generators, only.as_deref());
        Some(Box::pin(read).await)
    };
    Read {
        inventory,
        paths,
        sampling,
        estimates,
        existing,
    }
}

type Estimates = (
    std::collections::BTreeMap<crate::model::StageRef, crate::cost::Estimate>,
    Vec<ErrorEntry>,
);

/// `--cost on`: the untraced stages priced (their FAILED findings carry
/// it); off: nothing read.
async fn read_estimates(
    ctx: &Ctx<'_>,
    session: &AccountSession,
    at: &AccountRegion,
    stages: &[crate::model::StageRecord],
    rules: Option<&[crate::sampling::SamplingRule]>,
) -> Estimates {
    if ctx.cfg.cost != crate::config::CostMode::On {
        return Default::default();
    }
    let targets: Vec<&crate::model::StageRecord> =
        stages.iter().filter(|s| !s.tracing_enabled).collect();
    let series = crate::estimate::series_of(stages);
    let inputs = crate::estimate::Inputs {
        series: &series,
        rules,
        prices: &ctx.cfg.prices,
        now: ctx.now,
    };
    crate::estimate::estimate_region(session, &ctx.pacers, at, &targets, inputs).await
}

/// The rules whose findings this run keeps: the trace path's and
/// sampling's only when on (off, their findings are left as they are).
fn generators(ctx: &Ctx<'_>) -> Vec<&'static str> {
    let mut out = vec![asff::GENERATOR_ID];
    if ctx.functions.is_some() {
        out.push(asff::PATH_GENERATOR_ID);
    }
    if ctx.cfg.sampling == SamplingMode::On {
        out.push(asff::SAMPLING_GENERATOR_ID);
    }
    out
}

/// Evaluates every stage and prepares the findings to send. Pure. The
/// second value is `None` when nothing may be sent: a dry run, or the
/// existing findings could not be read (an import would reset CreatedAt
/// and could not archive, so the account-region stays exactly as it is
/// until the next run).
fn decide(ctx: &Ctx<'_>, at: &AccountRegion, read: Read) -> (RegionOutput, Option<Prepared>) {
    let Read {
        inventory,
        paths,
        sampling,
        estimates,
        existing,
    } = read;
    let (estimates, estimate_warnings) = estimates;
    let mut result = RegionResult::new(at);
    result.apis = inventory.apis;
    result.stages = inventory.stages.len();
    result.inventory_complete = inventory.complete();
    let mut errors: Vec<ErrorEntry> = inventory.errors.iter().map(ErrorEntry::from).collect();
    let mut warnings = Vec::new();
    errors.extend(paths.errors);
    warnings.extend(paths.warnings);
    let paths = paths.evaluations;
    warnings.extend(sampling.warnings);
    warnings.extend(estimate_warnings);
    let sampling = sampling.evaluations;
    result.sampling = sampling.len();
    for s in &sampling {
        match s.verdict.status {
            SamplingStatus::Failed => result.sampling_failed += 1,
            SamplingStatus::Warning => result.sampling_warning += 1,
            SamplingStatus::Unknown => result.sampling_unknown += 1,
            SamplingStatus::Passed => {}
        }
    }
    result.paths = paths.len();
    for p in &paths {
        match p.status {
            PathStatus::Failed => result.paths_failed += 1,
            PathStatus::Unknown => result.paths_unknown += 1,
            PathStatus::Passed => {}
        }
    }
    let mut rule_matches = vec![0; ctx.cfg.exemptions.len()];

    let today = ctx.now.date_naive();
    let evaluations: Vec<Evaluation> = inventory
        .stages
        .into_iter()
        .map(|stage| evaluate(stage, &ctx.cfg.exemptions, today))
        .collect();
    for ev in &evaluations {
        match ev.status() {
            Status::Failing => result.failing += 1,
            Status::Passing => result.passing += 1,
            Status::Exempt => result.exempt += 1,
        }
        warnings.extend(
            ev.problems
                .iter()
                .map(|p| ErrorEntry::invalid_exemption(&ev.stage.place, p)),
        );
        if let Some(index) = ev.matched_rule {
            rule_matches[index] += 1;
        }
    }

    let existing = match existing {
        None => Vec::new(),
        Some(Ok(existing)) => {
            warnings.extend(existing.foreign.iter().map(ErrorEntry::from));
            existing.ours
        }
        Some(Err(e)) => {
            warn!(error = %crate::report::chain(&e), "cannot read existing findings");
            errors.push(ErrorEntry::from(&e));
            result.not_imported = evaluations.len();
            result.errors = errors.len();
            let out = RegionOutput {
                result,
                errors,
                warnings,
                findings: Vec::new(),
                rule_matches,
                failing: Vec::new(),
                failed_paths: Vec::new(),
            };
            return (out, None);
        }
    };
    // Change events reconcile and archive their APIs only (filtered here
    // too: moto ignores filters).
    let existing: Vec<Finding> = match ctx.apis.and_then(|all| all.get(at)) {
        Some(apis) => {
            let prefixes: Vec<String> = apis
                .iter()
                .flat_map(|api| {
                    asff::GENERATOR_IDS
                        .iter()
                        .map(move |g| at.api_finding_id_prefix(g, api))
                })
                .collect();
            existing
                .into_iter()
                .filter(|f| prefixes.iter().any(|p| f.id.starts_with(p)))
                .collect()
        }
        None => existing,
    };
    let coverage = if result.inventory_complete {
        Coverage::Complete
    } else {
        Coverage::Partial
    };
    let (path_existing, existing): (Vec<Finding>, Vec<Finding>) = existing
        .into_iter()
        .partition(|f| f.generator_id == asff::PATH_GENERATOR_ID);
    let (sampling_existing, existing): (Vec<Finding>, Vec<Finding>) = existing
        .into_iter()
        .partition(|f| f.generator_id == asff::SAMPLING_GENERATOR_ID);
    let mut stages = reconcile(&evaluations, &existing, coverage, ctx.now);
    for f in &mut stages.findings {
        let priced = asff::stage_of_id(&f.id).and_then(|s| estimates.get(&s));
        if let Some(e) = priced {
            asff::price(f, e);
        }
    }
    let mut parts = vec![stages];
    if ctx.functions.is_some() {
        let paths = reconcile(&paths, &path_existing, coverage, ctx.now);
        result.paths_archived = paths.archived;
        parts.push(paths);
    }
    if ctx.cfg.sampling == SamplingMode::On {
        let judged = reconcile(&sampling, &sampling_existing, coverage, ctx.now);
        result.sampling_archived = judged.archived;
        parts.push(judged);
    }
    result.archived = parts[0].archived;
    let prepared = Prepared::checked_all(parts);
    drop(existing);
    result.archive_withheld = prepared.archive_withheld;
    result.not_imported = prepared.invalid.len();
    for bad in &prepared.invalid {
        warn!(finding_id = %bad.id, error = %bad, "finding not sent: breaks ASFF rules");
        errors.push(ErrorEntry::from(bad));
    }
    result.errors = errors.len();

    let handed_over = ctx
        .opts
        .hand_over
        .as_ref()
        .is_some_and(|scope| scope.allows(&at.account));
    let failing = if handed_over {
        let by_id: std::collections::BTreeMap<&str, &Finding> =
            prepared.findings().map(|f| (f.id.as_str(), f)).collect();
        evaluations
            .into_iter()
            .filter(|ev| ev.status() == Status::Failing)
            .filter_map(|ev| {
                let f = by_id.get(asff::finding_id(&ev.stage.place).as_str())?;
                Some((ev, (*f).clone()))
            })
            .collect()
    } else {
        Vec::new()
    };
    let findings = if ctx.opts.collect_findings {
        prepared.findings().cloned().collect()
    } else {
        Vec::new()
    };
    let failed_paths = if ctx.opts.keep_failed_paths {
        paths
            .into_iter()
            .filter(|p| p.status == PathStatus::Failed)
            .collect()
    } else {
        Vec::new()
    };
    let out = RegionOutput {
        result,
        errors,
        warnings,
        findings,
        rule_matches,
        failing,
        failed_paths,
    };
    (out, (!ctx.dry_run).then_some(prepared))
}

/// Imports the prepared findings (the account's own credentials, this
/// region: with the default product ARN only the owner may import).
async fn write(
    ctx: &Ctx<'_>,
    session: &AccountSession,
    at: &AccountRegion,
    out: &mut RegionOutput,
    prepared: Prepared,
) {
    if prepared.is_empty() {
        return;
    }
    let writer = session.securityhub(at.region, &ctx.pacers.securityhub);
    let sent = Box::pin(publish::import_findings(&writer, at, &prepared.batches)).await;
    out.result.imported = sent.imported;
    out.result.not_imported += sent.not_imported;
    out.errors.extend(sent.errors.iter().map(ErrorEntry::from));
    out.result.errors = out.errors.len();
}
