//! `apigw-tracing remediate`: exit 0 when every planned change was made
//! and confirmed (or, without --apply, planned), 1 when any failed or an
//! account-region could not be read, 2 for usage errors.

use std::fmt::Write as _;

use clap::{ArgAction, Args, ValueEnum};

use super::{Aws, ExitStatus, Output};
use crate::aws::accounts;
use crate::config::{AccountSource, ScanArgs};
use crate::model::{fix_command, StageArn};
use crate::remediate::decide::{Action, Requester};
use crate::remediate::{RemediateOptions, RemediationReport};
use crate::report::{chain, RunStatus};
use crate::scan::ScanError;
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

fn table(r: &RemediationReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:<13} {:<15} {:<12} {:<16} DETAIL",
        "ACTION", "ACCOUNT", "REGION", "API", "STAGE"
    );
    for s in &r.stages {
        let action = match s.action {
            Action::Enabled => "enabled",
            Action::WouldEnable => "would-enable",
            Action::Skipped => "skipped",
            Action::Failed => "FAILED",
            Action::Resolved => "resolved",
        };
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
        if r.apply {
            ""
        } else {
            " (dry run: nothing changed; --apply to make these changes)"
        }
    );
    out
}
