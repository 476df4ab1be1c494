//! `apigw-tracing remediate`: exit 0 when every planned change was made
//! and confirmed (or, without --apply, planned), 1 when any failed or an
//! account-region could not be read, 2 for usage errors.

use std::fmt::Write as _;

use clap::{ArgAction, Args, ValueEnum};

use super::{Aws, ExitStatus, Output};
use crate::aws::accounts;
use crate::aws::AwsEnv;
use crate::config::{AccountSource, Config, ScanArgs, TracePathMode};
use crate::model::Identity;
use crate::model::{fix_command, StageArn};
use crate::remediate::decide::{Action, Requester};
use crate::remediate::path::{fix_paths, PathFix, PathRemediationReport};
use crate::remediate::{RemediateOptions, RemediationReport};
use crate::report::{chain, RunStatus};
use crate::scan::ScanError;
use crate::scan::ScanOptions;
use crate::trigger::{ScanRequest, Trigger};

#[derive(Debug, Args)]
pub struct RemediateCommand {
    #[command(flatten)]
    pub args: ScanArgs,

    /// Only this stage (repeatable): arn:aws:apigateway:<region>::/restapis/<id>/stages/<name>.
    /// The account is the caller's own unless --accounts names it.
    #[arg(long = "stage", value_name = "ARN")]
    pub stages: Vec<String>,

    /// Make the changes. Without it nothing is written.
    #[arg(long, action = ArgAction::SetTrue)]
    pub apply: bool,

    /// Do not estimate what tracing would cost (no CloudWatch GetMetricData,
    /// X-Ray GetSamplingRules or GetTraceSegmentDestination reads).
    #[arg(long, action = ArgAction::SetTrue)]
    pub no_estimate: bool,

    /// table or json (the report).
    #[arg(long, value_enum, default_value_t = RemediateFormat::Table)]
    pub format: RemediateFormat,
}

const DRY_RUN_AND_APPLY: &str = "--apply contradicts --dry-run (or APIGW_TRACING_DRY_RUN=true): \
     nothing was changed; drop one of them (without --apply, remediate only reports what it would change)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RemediateFormat {
    Table,
    Json,
}

pub async fn run(cmd: &RemediateCommand, aws: &Aws, out: &mut Output<'_>) -> ExitStatus {
    let mut cfg = match cmd.args.validate() {
        Ok(cfg) => cfg,
        Err(e) => {
            out.error(&format!("configuration error: {}", chain(&e)));
            return ExitStatus::Usage;
        }
    };
    // A dry run, asked for by flag or by the environment, never writes:
    // with --apply the request contradicts itself, so nothing is done.
    if cmd.apply && cfg.dry_run {
        out.error(DRY_RUN_AND_APPLY);
        return ExitStatus::Usage;
    }
    let stages: Vec<StageArn> = match cmd.stages.iter().map(|s| StageArn::parse(s)).collect() {
        Ok(s) => s,
        Err(e) => {
            out.error(&format!("--stage: {e}"));
            return ExitStatus::Usage;
        }
    };
    // Named stages bring their regions when none are configured.
    if cfg.regions.is_empty() && !stages.is_empty() {
        let mut regions: Vec<_> = stages.iter().map(|s| s.region).collect();
        regions.sort();
        regions.dedup();
        cfg.regions = regions;
    }
    if let Some(s) = stages.iter().find(|s| !cfg.regions.contains(&s.region)) {
        out.error(&format!("--stage {s}: its region is not among --regions"));
        return ExitStatus::Usage;
    }
    let env = aws.env(&cfg).await;
    let me = match accounts::caller_identity(&env).await {
        Ok(me) => me,
        Err(e) => {
            out.error(&chain(&e));
            return ExitStatus::Partial;
        }
    };
    // With --stage and no account list: the caller's own account.
    let req = ScanRequest {
        accounts: (!stages.is_empty() && cfg.accounts == AccountSource::Organization)
            .then(|| vec![me.account.clone()]),
        trigger: Trigger::Cli,
        ..ScanRequest::default()
    };
    // The path fix plans through its own scan (planning here too would list
    // the organization twice).
    if cfg.trace_path == TracePathMode::On {
        return remediate_paths(cmd, &env, cfg, &req, &me, &stages, out).await;
    }
    let plan = match crate::scan::plan_run(&env, &cfg, &req).await {
        Ok((_, plan)) => plan,
        Err(e) => {
            out.error(&chain(&e));
            return match e {
                ScanError::Scope(_) => ExitStatus::Usage,
                ScanError::Accounts(_) => ExitStatus::Partial,
            };
        }
    };
    let opts = RemediateOptions {
        apply: cmd.apply,
        stages,
        requested_by: Requester::Cli,
        prices: (!cmd.no_estimate).then_some(cfg.prices),
    };
    let report = crate::remediate::run(&env, &cfg, &plan, &me, &opts).await;
    match cmd.format {
        RemediateFormat::Table => out.emit(table(&report).as_bytes()),
        RemediateFormat::Json => out.json(&report),
    }
    if report.status == RunStatus::Partial {
        ExitStatus::Partial
    } else {
        ExitStatus::Complete
    }
}

/// `--trace-path`: the functions behind FAILED trace paths, from a scan
/// that sends nothing to Security Hub.
#[allow(clippy::too_many_arguments)]
async fn remediate_paths(
    cmd: &RemediateCommand,
    env: &AwsEnv,
    cfg: Config,
    req: &ScanRequest,
    me: &Identity,
    stages: &[StageArn],
    out: &mut Output<'_>,
) -> ExitStatus {
    let read_cfg = Config {
        dry_run: true,
        ..cfg.clone()
    };
    let opts = ScanOptions {
        keep_failed_paths: true,
        ..ScanOptions::default()
    };
    let scanned = match crate::scan::run(env, &read_cfg, req, opts).await {
        Ok(s) => s,
        Err(e) => {
            out.error(&chain(&e));
            return match e {
                ScanError::Scope(_) => ExitStatus::Usage,
                ScanError::Accounts(_) => ExitStatus::Partial,
            };
        }
    };
    let fix = PathFix {
        env,
        cfg: &cfg,
        me,
        covered: scanned.accounts.iter().cloned().collect(),
        regions: scanned.regions.iter().copied().collect(),
        apply: cmd.apply,
        stages,
    };
    let report = fix_paths(&fix, &scanned.failed_paths, scanned.summary.errors).await;
    match cmd.format {
        RemediateFormat::Table => out.emit(path_table(&report).as_bytes()),
        RemediateFormat::Json => out.json(&report),
    }
    if report.status == RunStatus::Partial {
        ExitStatus::Partial
    } else {
        ExitStatus::Complete
    }
}

/// How an action reads in a table.
fn action_label(a: Action) -> &'static str {
    match a {
        Action::Enabled => "enabled",
        Action::WouldEnable => "would-enable",
        Action::Skipped => "skipped",
        Action::Failed => "FAILED",
        Action::Resolved => "resolved",
    }
}

/// The end of a report's last line.
fn dry_run_note(apply: bool) -> &'static str {
    if apply {
        ""
    } else {
        " (dry run: nothing changed; --apply to make these changes)"
    }
}

fn path_table(r: &PathRemediationReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:<13} {:<64} DETAIL",
        "ACTION", "ACCOUNT", "FUNCTION"
    );
    for f in &r.functions {
        let action = action_label(f.action);
        let detail = f
            .reason
            .clone()
            .or_else(|| f.command.clone())
            .unwrap_or_default();
        let role = if f.authorizer { " (authorizer)" } else { "" };
        let _ = writeln!(
            out,
            "{action:<13} {:<13} {:<64} {detail}{role}",
            f.account, f.function
        );
    }
    for e in &r.errors {
        let _ = writeln!(out, "error: {}", e.message);
    }
    let t = &r.totals;
    let _ = writeln!(
        out,
        "{} function(s) enabled, {} would be enabled, {} skipped, {} failed{}",
        t.enabled,
        t.would_enable,
        t.skipped,
        t.failed,
        dry_run_note(r.apply)
    );
    out
}

fn table(r: &RemediationReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:<13} {:<15} {:<12} {:<16} DETAIL",
        "ACTION", "ACCOUNT", "REGION", "API", "STAGE"
    );
    for s in &r.stages {
        let action = action_label(s.action);
        let detail = match (&s.patch, &s.reason) {
            (_, Some(reason)) => reason.clone(),
            (Some(_), None) => fix_command(&s.stage),
            (None, None) => String::new(),
        };
        let p = &s.stage;
        let _ = writeln!(
            out,
            "{action:<13} {:<13} {:<15} {:<12} {:<16} {detail}",
            p.account, p.region, p.api_id, p.stage
        );
        if let Some(e) = &s.estimate {
            let notes = match e.notes.is_empty() {
                true => String::new(),
                false => format!("; {}", e.notes.join("; ")),
            };
            let _ = writeln!(
                out,
                "{:<13} estimate: {} (rule {}: reservoir {}/s, rate {}){notes}",
                "",
                e.summary(),
                e.rule,
                e.reservoir,
                e.rate
            );
        }
    }
    if let Some(t) = &r.estimate_totals {
        for (account, total) in &t.accounts {
            let _ = writeln!(
                out,
                "estimate, account {account}: {} stage(s), {} traces/month, USD {}/month (before the free tier)",
                total.stages,
                total.traces_per_month.shown(0),
                total.usd_per_month.shown(2)
            );
        }
        let _ = writeln!(
            out,
            "estimate, overall: {} traces/month, USD {}/month after {} free traces (USD {} per million); {}",
            t.overall.traces_per_month.shown(0),
            t.overall.usd_per_month.shown(2),
            t.free_traces_per_month,
            t.price_per_million_traces,
            t.note
        );
    }
    for e in &r.errors {
        let _ = writeln!(out, "error: {}", e.message);
    }
    let t = &r.totals;
    let _ = writeln!(
        out,
        "{} enabled, {} would be enabled, {} skipped, {} failed, {} resolved{}",
        t.enabled,
        t.would_enable,
        t.skipped,
        t.failed,
        t.resolved,
        dry_run_note(r.apply)
    );
    out
}
