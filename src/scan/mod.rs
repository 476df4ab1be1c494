//! One run: plan the accounts and regions, then for each account-region
//! inventory, evaluate, build and check findings, publish, and report.
//! One account's or region's failure never stops the others.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{stream, FutureExt, StreamExt};
use tokio::sync::Semaphore;
use tracing::{error, info, instrument, warn};

use crate::asff::Finding;
use crate::aws::accounts::{self, AccountsError, Identity};
use crate::aws::functions::FunctionReader;
use crate::aws::pacing::Pacers;
use crate::aws::{AccountSession, AwsEnv};
use crate::config::{Config, RemediateScope, SamplingMode, TracePathMode};
use crate::evaluate::Evaluation;
use crate::model::{join_regions, AccountId, AccountRegion, Region};
use crate::plan::{self, Plan, PlanError};
use crate::report::{ErrorEntry, ExemptionUse, RunStatus, Summary};
use crate::trace_path::PathEvaluation;
use crate::trigger::ScanRequest;

/// A run that could not start: nothing was scanned and nothing published.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The request or the configuration asks for something outside what
    /// may be scanned (or names no region).
    #[error("cannot plan the scan")]
    Scope(#[from] PlanError),
    /// Who we are, or the organization's accounts, could not be read.
    #[error("cannot plan the scan")]
    Accounts(#[source] AccountsError),
}

#[derive(Debug, Default, Clone)]
pub struct ScanOptions {
    /// Keep every finding built (for `--format asff`). Off by default so a
    /// large organization's findings are not all held in memory.
    pub collect_findings: bool,
    /// When the run must be over (Lambda: the invocation's deadline less a
    /// few seconds to return the summary). Account-regions still running
    /// then are interrupted; none are started after `deadline - start_margin`.
    pub deadline: Option<Instant>,
    /// How long before `deadline` to stop starting account-regions.
    pub start_margin: Duration,
    /// Keep the failing, non-exempt stages of these accounts, with their
    /// findings, for remediation after the scan (no second inventory).
    pub hand_over: Option<RemediateScope>,
    /// Keep every FAILED trace path (for `remediate --trace-path`).
    pub keep_failed_paths: bool,
}

impl ScanOptions {
    /// True once no new account-region may start.
    fn too_late_to_start(&self) -> bool {
        self.deadline
            .is_some_and(|d| Instant::now() + self.start_margin >= d)
    }
}

#[derive(Debug)]
pub struct ScanOutput {
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// With `hand_over`: the failing stages of the allowed accounts, each
    /// with the finding this scan built (its CreatedAt is the one to keep).
    pub failing: Vec<(Evaluation, Finding)>,
    /// With `keep_failed_paths`: every FAILED trace path.
    pub failed_paths: Vec<PathEvaluation>,
    /// The accounts the run planned (what a fix after it may cover).
    pub accounts: Vec<AccountId>,
    /// The regions the run planned (the same partition): a fix after it
    /// writes in no other.
    pub regions: Vec<Region>,
}

/// Everything a region task needs, shared by reference.
struct Ctx<'a> {
    cfg: &'a Config,
    /// Change events' REST APIs: only these, in only these account-regions.
    apis: Option<&'a BTreeMap<AccountRegion, BTreeSet<String>>>,
    opts: ScanOptions,
    dry_run: bool,
    now: DateTime<Utc>,
    pacers: Pacers,
    slots: Semaphore,
    /// With the trace path on: reads each function once for the run.
    functions: Option<FunctionReader<'a>>,
}

mod fan_out;
mod path;
mod region;
mod sampling;
use fan_out::{fan_out_only, RunStart};
use region::{scan_region, RegionOutput};

/// What became of one account-region.
enum RegionRun {
    Scanned(Box<RegionOutput>),
    /// Not scanned: the role could not be assumed, or the deadline came.
    Skipped(ErrorEntry),
}

/// Runs one scan. Boxed: the future is large (Security Hub types) and must
/// be provably `Send` for the Lambda runtime and `tokio::spawn`.
pub fn run<'a>(
    env: &'a AwsEnv,
    cfg: &'a Config,
    req: &'a ScanRequest,
    opts: ScanOptions,
) -> BoxFuture<'a, Result<ScanOutput, ScanError>> {
    run_inner(env, cfg, req, opts).boxed()
}

async fn run_inner(
    env: &AwsEnv,
    cfg: &Config,
    req: &ScanRequest,
    opts: ScanOptions,
) -> Result<ScanOutput, ScanError> {
    let started = Instant::now();
    let now = Utc::now();
    let env = &env.with_fresh_stats();
    let (me, plan) = plan_run(env, cfg, req).await?;
    if let Some(queue_url) = &plan.fan_out {
        let start = RunStart {
            me: &me,
            trigger: &req.trigger,
            now,
            started,
        };
        return Ok(fan_out_only(env, queue_url, plan.clone(), start).await);
    }
    info!(
        scanner_account = %me.account,
        accounts = plan.targets.len(),
        regions = %join_regions(&plan.regions),
        dry_run = plan.dry_run,
        "scan planned"
    );

    let pacers = Pacers::new(cfg.limits.apigw_rps, cfg.limits.securityhub_rps);
    let functions = (cfg.trace_path == TracePathMode::On)
        .then(|| FunctionReader::new(env, cfg, &me, pacers.lambda.clone()))
        .map(|r| r.within(plan.organization.clone()));
    let ctx = Ctx {
        cfg,
        apis: req.apis.as_ref(),
        opts,
        dry_run: plan.dry_run,
        now,
        pacers,
        slots: Semaphore::new(cfg.limits.concurrency),
        functions,
    };
    let Plan {
        targets,
        skipped,
        regions,
        dry_run,
        ..
    } = plan;
    let mut summary = Summary::new(
        req.trigger.clone(),
        dry_run,
        now,
        Some(&me.account),
        &regions,
        skipped,
    );
    summary.trace_path = cfg.trace_path == TracePathMode::On;
    summary.sampling = cfg.sampling == SamplingMode::On;
    let planned = targets.clone();
    let mut findings = Vec::new();
    let mut failing = Vec::new();
    let mut failed_paths = Vec::new();
    let mut rule_matches = vec![0; cfg.exemptions.len()];

    let mut accounts = stream::iter(targets)
        // Boxed as `BoxFuture` so Send is proven here (rust-lang/rust#102211).
        .map(|account| -> BoxFuture<'_, Vec<RegionRun>> {
            scan_account(env, &ctx, &me, account, &regions).boxed()
        })
        .buffer_unordered(cfg.limits.concurrency);
    while let Some(outputs) = accounts.next().await {
        for out in outputs {
            match out {
                RegionRun::Scanned(region) => {
                    summary.results.push(region.result);
                    summary.errors.extend(region.errors);
                    summary.warnings.extend(region.warnings);
                    findings.extend(region.findings);
                    failing.extend(region.failing);
                    failed_paths.extend(region.failed_paths);
                    for (total, n) in rule_matches.iter_mut().zip(region.rule_matches) {
                        *total += n;
                    }
                }
                RegionRun::Skipped(entry) => summary.errors.push(entry),
            }
        }
    }
    summary.exemptions = rule_matches
        .into_iter()
        .enumerate()
        .map(|(index, stages)| ExemptionUse {
            index,
            stage: cfg.exemptions.pattern(index).unwrap_or_default().to_owned(),
            stages_matched: stages,
        })
        .collect();
    summary.requests = env.stats.snapshot();
    summary.duration_ms = elapsed_ms(started);
    summary.finish();
    log_finished(&summary);
    Ok(ScanOutput {
        summary,
        findings,
        failing,
        failed_paths,
        accounts: planned,
        regions: regions.clone(),
    })
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Plans a run (a scan, or a remediation): scope errors that need no AWS
/// call come first, so a request outside the configured regions or account
/// list is refused before anything is asked of AWS; then who we are; then
/// the organization's accounts, only when the plan needs them.
pub async fn plan_run(
    env: &AwsEnv,
    cfg: &Config,
    req: &ScanRequest,
) -> Result<(Identity, Plan), ScanError> {
    let home = env.home_region();
    let without_listing = if plan::needs_organization(cfg, req) {
        plan::regions(cfg, req, home.as_deref())?;
        None
    } else {
        Some(plan::plan(cfg, req, home.as_deref(), None)?)
    };
    let me = accounts::caller_identity(env)
        .await
        .map_err(ScanError::Accounts)?;
    let plan = match without_listing {
        Some(plan) => plan,
        None => {
            let organization = accounts::organization_accounts(env)
                .await
                .map_err(ScanError::Accounts)?;
            plan::plan(cfg, req, home.as_deref(), Some(&organization))?
        }
    };
    Ok((me, plan))
}

/// The run's totals on one structured line (the whole summary is the
/// result: several MB for an organization, over a log event's 256 KB).
fn log_finished(summary: &Summary) {
    let t = &summary.totals;
    if summary.status == RunStatus::Partial {
        warn!(
            errors = t.errors,
            accounts_failed = t.accounts_failed,
            "scan finished PARTIAL"
        );
    }
    info!(
        status = summary.status.as_str(),
        accounts = t.accounts,
        accounts_failed = t.accounts_failed,
        account_regions = t.account_regions,
        apis = t.apis,
        stages = t.stages,
        failing = t.failing,
        passing = t.passing,
        exempt = t.exempt,
        archived = t.archived,
        imported = t.findings_imported,
        not_imported = t.findings_not_imported,
        errors = t.errors,
        duration_ms = summary.duration_ms,
        "scan finished"
    );
}

const NOT_STARTED: &str = "the run's deadline was near; not started";
const INTERRUPTED: &str =
    "interrupted at the run's deadline; findings here may be partly refreshed, none wrongly archived";

/// All regions of one account. If the role cannot be assumed, the result is
/// that one account-level failure: nothing of that account is touched.
#[instrument(skip_all, fields(account = %account))]
async fn scan_account(
    env: &AwsEnv,
    ctx: &Ctx<'_>,
    me: &Identity,
    account: AccountId,
    regions: &[Region],
) -> Vec<RegionRun> {
    // Change events name their account-regions: the others are not part
    // of the run.
    let regions: Vec<Region> = regions
        .iter()
        .copied()
        .filter(|r| {
            ctx.apis
                .is_none_or(|apis| apis.contains_key(&AccountRegion::new(account.clone(), *r)))
        })
        .collect();
    if ctx.opts.too_late_to_start() {
        return regions
            .iter()
            .map(|r| {
                let at = AccountRegion::new(account.clone(), *r);
                RegionRun::Skipped(ErrorEntry::not_scanned(&at, NOT_STARTED))
            })
            .collect();
    }
    let session = match accounts::open_session(env, ctx.cfg, me, &account).await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            error!(error = %crate::report::chain(&e), "account skipped");
            return vec![RegionRun::Skipped(ErrorEntry::from(&e))];
        }
    };
    // Each region task owns what it needs; the run-wide semaphore bounds
    // how many account-regions are in flight.
    let tasks: Vec<BoxFuture<'_, RegionRun>> = regions
        .iter()
        .map(|region| {
            let (session, region) = (session.clone(), *region);
            async move { scan_region_in_time(ctx, &session, region).await }.boxed()
        })
        .collect();
    let outcomes = futures::future::join_all(tasks).await;
    // This account's regions are done: their pacing state can go, so memory
    // does not grow with the number of accounts.
    ctx.pacers.forget_idle();
    outcomes
}

/// One account-region once a slot is free, unless the deadline is near;
/// interrupted if the deadline comes while it runs.
async fn scan_region_in_time(ctx: &Ctx<'_>, session: &AccountSession, region: Region) -> RegionRun {
    let _slot = ctx
        .slots
        .acquire()
        .await
        .expect("semaphore is never closed");
    let at = AccountRegion::new(session.account.clone(), region);
    if ctx.opts.too_late_to_start() {
        return RegionRun::Skipped(ErrorEntry::not_scanned(&at, NOT_STARTED));
    }
    let work = scan_region(ctx, session, region);
    let Some(deadline) = ctx.opts.deadline else {
        return RegionRun::Scanned(Box::new(work.await));
    };
    // Dropping the work at the deadline stops it between two requests:
    // archivals are only ever sent after a complete inventory, so an
    // interruption archives nothing wrongly; the next run finishes the job.
    match tokio::time::timeout_at(deadline, work).await {
        Ok(out) => RegionRun::Scanned(Box::new(out)),
        Err(_) => {
            warn!(region = %region, "interrupted at the deadline");
            RegionRun::Skipped(ErrorEntry::not_scanned(&at, INTERRUPTED))
        }
    }
}
