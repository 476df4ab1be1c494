//! One run: plan the accounts and regions, then for each account-region
//! inventory, evaluate, build and check findings, publish, and report.
//! One account's or region's failure never stops the others.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{stream, FutureExt, StreamExt};
use tokio::sync::Semaphore;
use tracing::{error, info, instrument, warn};

use crate::accounts::{self, AccountsError, Identity};
use crate::asff::{self, Finding};
use crate::aws::{AccountSession, AwsEnv};
use crate::config::{AccountSource, Config, ConfigError};
use crate::evaluate::{evaluate, Status};
use crate::fanout;
use crate::inventory;
use crate::model::AccountId;
use crate::pacing::Pacer;
use crate::publish;
use crate::reconcile::reconcile;
use crate::report::{ErrorEntry, RegionResult, RunStatus, Skipped, Summary, Totals};
use crate::trigger::{ScanRequest, Trigger};

/// Security Hub's GetFindings quota: 3 requests/s (burst 6) per account-region.
const GET_FINDINGS_RPS: std::num::NonZeroU32 = std::num::NonZeroU32::new(3).unwrap();

impl Summary {
    /// An empty summary of a run about to start.
    fn new(
        req: &ScanRequest,
        dry_run: bool,
        now: DateTime<Utc>,
        me: &Identity,
        regions: &[String],
        skipped: Vec<Skipped>,
    ) -> Self {
        Summary {
            status: RunStatus::Complete,
            dry_run,
            trigger: req.trigger.clone(),
            started_at: asff::timestamp(now),
            duration_ms: 0,
            scanner_account: me.account.to_string(),
            regions: regions.to_vec(),
            totals: Totals::default(),
            results: Vec::new(),
            skipped,
            errors: Vec::new(),
            warnings: Vec::new(),
            fan_out: None,
            requests: Default::default(),
        }
    }
}

/// A run that could not start: nothing was scanned and nothing published.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot plan the scan")]
    Plan(#[source] AccountsError),
}

#[derive(Debug, Default, Clone, Copy)]
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
}

/// Everything a region task needs, shared by reference.
struct Ctx<'a> {
    cfg: &'a Config,
    opts: ScanOptions,
    dry_run: bool,
    now: DateTime<Utc>,
    apigw_pacer: Pacer,
    securityhub_pacer: Pacer,
    /// GetFindings allows 3 requests/s per account and region.
    getfindings_pacer: Pacer,
    slots: Semaphore,
}

/// What became of one account-region.
enum Outcome {
    Scanned(Box<RegionOutput>),
    /// Not scanned: the role could not be assumed, or the deadline came.
    Skipped(ErrorEntry),
}

struct RegionOutput {
    result: RegionResult,
    errors: Vec<ErrorEntry>,
    warnings: Vec<ErrorEntry>,
    findings: Vec<Finding>,
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
    let regions = plan_regions(env, cfg, req)?;
    let me = accounts::caller_identity(env)
        .await
        .map_err(ScanError::Plan)?;
    let (targets, skipped) = plan_accounts(env, cfg, req).await?;
    let dry_run = cfg.dry_run || req.dry_run;
    if let Some(queue_url) = fan_out_queue(cfg, req, targets.len()) {
        return Ok(plan_only(
            env, queue_url, &me, &targets, skipped, &regions, dry_run, req, now, started,
        )
        .await);
    }
    info!(
        scanner_account = %me.account,
        accounts = targets.len(),
        regions = ?regions,
        dry_run,
        "scan planned"
    );

    let ctx = Ctx {
        cfg,
        opts,
        dry_run,
        now,
        apigw_pacer: Pacer::per_second(cfg.apigw_rps),
        securityhub_pacer: Pacer::per_second(cfg.securityhub_rps),
        getfindings_pacer: Pacer::per_second(cfg.securityhub_rps.min(GET_FINDINGS_RPS)),
        slots: Semaphore::new(cfg.concurrency),
    };
    let mut summary = Summary::new(req, dry_run, now, &me, &regions, skipped);
    let mut findings = Vec::new();

    let mut accounts = stream::iter(targets)
        // Boxed as `BoxFuture` so Send is proven here (rust-lang/rust#102211).
        .map(|account| -> BoxFuture<'_, Vec<Outcome>> {
            scan_account(env, &ctx, &me, account, &regions).boxed()
        })
        .buffer_unordered(cfg.concurrency);
    while let Some(outputs) = accounts.next().await {
        for out in outputs {
            match out {
                Outcome::Scanned(region) => {
                    summary.results.push(region.result);
                    summary.errors.extend(region.errors);
                    summary.warnings.extend(region.warnings);
                    findings.extend(region.findings);
                }
                Outcome::Skipped(entry) => summary.errors.push(entry),
            }
        }
    }
    summary.requests = env.stats.snapshot();
    summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    summary.finish();
    let t = &summary.totals;
    if summary.status == RunStatus::Partial {
        warn!(
            errors = t.errors,
            accounts_failed = t.accounts_failed,
            "scan finished PARTIAL"
        );
    }
    info!(
        status = ?summary.status,
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
    Ok(ScanOutput { summary, findings })
}

/// The queue to fan out to, when this run should only plan: a Lambda run
/// (schedule or manual, never a queue batch or the CLI) with a queue
/// configured and more than `fan_out_above` accounts.
fn fan_out_queue<'a>(cfg: &'a Config, req: &ScanRequest, accounts: usize) -> Option<&'a str> {
    let lambda_run = matches!(req.trigger, Trigger::Schedule { .. } | Trigger::Manual);
    cfg.queue_url
        .as_deref()
        .filter(|_| lambda_run && accounts > cfg.fan_out_above)
}

/// Sends one message per account and reports that; scans nothing.
#[allow(clippy::too_many_arguments)]
async fn plan_only(
    env: &AwsEnv,
    queue_url: &str,
    me: &Identity,
    targets: &[AccountId],
    skipped: Vec<Skipped>,
    regions: &[String],
    dry_run: bool,
    req: &ScanRequest,
    now: DateTime<Utc>,
    started: Instant,
) -> ScanOutput {
    let (report, errors) = fanout::enqueue(&env.sqs(), queue_url, targets, regions, dry_run).await;
    let mut summary = Summary::new(req, dry_run, now, me, regions, skipped);
    summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    summary.errors = errors.iter().map(ErrorEntry::from_fan_out).collect();
    summary.fan_out = Some(report);
    summary.requests = env.stats.snapshot();
    summary.finish();
    ScanOutput {
        summary,
        findings: Vec::new(),
    }
}

fn plan_regions(env: &AwsEnv, cfg: &Config, req: &ScanRequest) -> Result<Vec<String>, ConfigError> {
    if let Some(r) = &req.regions {
        return Ok(r.clone());
    }
    if !cfg.regions.is_empty() {
        return Ok(cfg.regions.clone());
    }
    let home = env.home_region().ok_or(ConfigError::NoRegion)?;
    crate::config::parse_regions(&[home], "AWS_REGION")
}

/// The accounts to scan: the request's scope, else the configured list,
/// else the organization; minus the exclude list.
async fn plan_accounts(
    env: &AwsEnv,
    cfg: &Config,
    req: &ScanRequest,
) -> Result<(Vec<AccountId>, Vec<Skipped>), ScanError> {
    let wanted: Vec<AccountId> = match (&req.accounts, &cfg.accounts) {
        (Some(scope), _) => scope.clone(),
        (None, AccountSource::Fixed(list)) => list.clone(),
        (None, AccountSource::Organization) => accounts::organization_accounts(env)
            .await
            .map_err(ScanError::Plan)?,
    };
    let mut seen = BTreeSet::new();
    let mut skipped = Vec::new();
    let mut targets = Vec::new();
    for id in wanted {
        if !seen.insert(id.clone()) {
            continue;
        }
        if cfg.exclude.contains(&id) {
            skipped.push(Skipped {
                account: id.to_string(),
                reason: "excluded by configuration (APIGW_TRACING_EXCLUDE_ACCOUNTS)".into(),
            });
        } else {
            targets.push(id);
        }
    }
    Ok((targets, skipped))
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
    regions: &[String],
) -> Vec<Outcome> {
    if ctx.opts.too_late_to_start() {
        return regions
            .iter()
            .map(|r| Outcome::Skipped(ErrorEntry::not_scanned(account.as_str(), r, NOT_STARTED)))
            .collect();
    }
    let session = match accounts::open_session(env, ctx.cfg, me, &account).await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            error!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "account skipped");
            return vec![Outcome::Skipped(ErrorEntry::from_accounts(
                account.as_str(),
                &e,
            ))];
        }
    };
    // Each region task owns what it needs; the run-wide semaphore bounds
    // how many account-regions are in flight.
    let tasks: Vec<BoxFuture<'_, Outcome>> = regions
        .iter()
        .map(|region| {
            let (session, region) = (session.clone(), region.clone());
            async move { scan_region_in_time(ctx, &session, &region).await }.boxed()
        })
        .collect();
    let outcomes = futures::future::join_all(tasks).await;
    // This account's regions are done: their pacing state can go, so memory
    // does not grow with the number of accounts.
    for pacer in [
        &ctx.apigw_pacer,
        &ctx.securityhub_pacer,
        &ctx.getfindings_pacer,
    ] {
        pacer.forget_idle();
    }
    outcomes
}

/// One account-region once a slot is free, unless the deadline is near;
/// interrupted if the deadline comes while it runs.
async fn scan_region_in_time(ctx: &Ctx<'_>, session: &AccountSession, region: &str) -> Outcome {
    let _slot = ctx
        .slots
        .acquire()
        .await
        .expect("semaphore is never closed");
    if ctx.opts.too_late_to_start() {
        return Outcome::Skipped(ErrorEntry::not_scanned(
            session.account.as_str(),
            region,
            NOT_STARTED,
        ));
    }
    let work = scan_region(ctx, session, region);
    let Some(deadline) = ctx.opts.deadline else {
        return Outcome::Scanned(Box::new(work.await));
    };
    // Dropping the work at the deadline stops it between two requests:
    // archivals are only ever sent after a complete inventory, so an
    // interruption archives nothing wrongly; the next run finishes the job.
    match tokio::time::timeout_at(deadline, work).await {
        Ok(out) => Outcome::Scanned(Box::new(out)),
        Err(_) => {
            warn!(account = %session.account, region = %region, "interrupted at the deadline");
            Outcome::Skipped(ErrorEntry::not_scanned(
                session.account.as_str(),
                region,
                INTERRUPTED,
            ))
        }
    }
}

#[instrument(skip_all, fields(account = %session.account, region = %region))]
async fn scan_region(ctx: &Ctx<'_>, session: &AccountSession, region: &str) -> RegionOutput {
    let account = &session.account;
    let apigw = session.apigateway(region, &ctx.apigw_pacer);
    let inv = inventory::list_stages(&apigw, account, region).await;
    let mut warnings = Vec::new();
    let mut errors: Vec<ErrorEntry> = inv
        .errors
        .iter()
        .map(|e| ErrorEntry::from_inventory(account.as_str(), region, e))
        .collect();
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

    // A dry run reads nothing from Security Hub and sends nothing: it shows
    // the findings of the stages observed now.
    // Two clients: GetFindings and BatchImportFindings have their own quotas.
    let hubs = (!ctx.dry_run).then(|| {
        (
            session.securityhub(region, &ctx.getfindings_pacer),
            session.securityhub(region, &ctx.securityhub_pacer),
        )
    });
    let existing = match &hubs {
        None => Vec::new(),
        Some((reader, _)) => {
            match publish::existing_findings(reader, account, region).await {
                Ok(existing) => existing,
                Err(e) => {
                    // Without the existing findings, an import would reset
                    // CreatedAt and could not archive: leave this
                    // account-region exactly as it is until the next run.
                    warn!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "cannot read existing findings");
                    errors.push(ErrorEntry::from_publish(account.as_str(), region, &e));
                    result.not_imported = evaluations.len();
                    result.errors = errors.len();
                    return RegionOutput {
                        result,
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
                errors.push(ErrorEntry::from_invalid(account.as_str(), region, &bad));
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
        errors.extend(
            out.errors
                .iter()
                .map(|e| ErrorEntry::from_publish(account.as_str(), region, e)),
        );
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
        errors,
        warnings,
        findings: if ctx.opts.collect_findings {
            findings
        } else {
            Vec::new()
        },
    }
}
