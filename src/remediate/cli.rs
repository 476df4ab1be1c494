//! `apigw-tracing remediate`: exit 0 when every planned change was made
//! and confirmed (or, without --apply, planned), 1 when any failed or an
//! account-region could not be read, 2 for usage errors.

use std::fmt::Write as _;

use super::decide::{Action, Requester, StageArn};
use super::{RemediateOptions, RemediationReport};
use crate::aws::{accounts, AwsEnv};
use crate::cli::{
    emit, RemediateCommand, RemediateFormat, EXIT_COMPLETE, EXIT_PARTIAL, EXIT_USAGE,
};
use crate::report::{chain, RunStatus};
use crate::scan::ScanError;
use crate::trigger::{ScanRequest, Trigger};

pub async fn run(cmd: &RemediateCommand) -> u8 {
    let mut cfg = match cmd.args.validate() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("apigw-tracing: configuration error: {}", chain(&e));
            return EXIT_USAGE;
        }
    };
    let stages: Vec<StageArn> = match cmd.stages.iter().map(|s| StageArn::parse(s)).collect() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("apigw-tracing: --stage: {e}");
            return EXIT_USAGE;
        }
    };
    // Named stages bring their regions when none are configured.
    if cfg.regions.is_empty() && !stages.is_empty() {
        let mut regions: Vec<String> = stages.iter().map(|s| s.region.clone()).collect();
        regions.sort();
        regions.dedup();
        cfg.regions = regions;
    }
    if let Some(s) = stages
        .iter()
        .find(|s| !cfg.regions.is_empty() && !cfg.regions.contains(&s.region))
    {
        eprintln!("apigw-tracing: --stage {s}: its region is not among --regions");
        return EXIT_USAGE;
    }
    let env = AwsEnv::load(&cfg).await;
    let me = match accounts::caller_identity(&env).await {
        Ok(me) => me,
        Err(e) => {
            eprintln!("apigw-tracing: {}", chain(&e));
            return EXIT_PARTIAL;
        }
    };
    // With --stage and no account list: the caller's own account.
    let req = ScanRequest {
        accounts: (!stages.is_empty()
            && cfg.accounts == crate::config::AccountSource::Organization)
            .then(|| vec![me.account.clone()]),
        trigger: Trigger::Cli,
        ..ScanRequest::default()
    };
    let plan = match crate::scan::plan_run(&env, &cfg, &req).await {
        Ok((_, plan)) => plan,
        Err(e) => {
            eprintln!("apigw-tracing: {}", chain(&e));
            return match e {
                ScanError::Scope(_) => EXIT_USAGE,
                ScanError::Accounts(_) => EXIT_PARTIAL,
            };
        }
    };
    let opts = RemediateOptions {
        apply: cmd.apply,
        stages,
        requested_by: Requester::Cli,
        role_name: cfg.remediation_role_name.clone(),
    };
    let report = super::run(&env, &cfg, &plan, &me, &opts).await;
    match cmd.format {
        RemediateFormat::Table => emit(table(&report).as_bytes()),
        RemediateFormat::Json => {
            let text = serde_json::to_string_pretty(&report).unwrap_or_default();
            emit(format!("{text}\n").as_bytes());
        }
    }
    if report.status == RunStatus::Partial {
        EXIT_PARTIAL
    } else {
        EXIT_COMPLETE
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
        };
        let detail = match (&s.patch, &s.reason) {
            (_, Some(reason)) => reason.clone(),
            (Some(patch), None) => format!(
                "aws apigateway update-stage --region {} --rest-api-id {} --stage-name {} --patch-operations {patch}",
                s.region, s.api_id, s.stage
            ),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "{action:<13} {:<13} {:<15} {:<12} {:<16} {detail}",
            s.account, s.region, s.api_id, s.stage
        );
    }
    for e in &r.errors {
        let _ = writeln!(out, "error: {}", e.message);
    }
    let t = &r.totals;
    let _ = writeln!(
        out,
        "{} enabled, {} would be enabled, {} skipped, {} failed{}",
        t.enabled,
        t.would_enable,
        t.skipped,
        t.failed,
        if r.apply {
            ""
        } else {
            " (dry run: nothing changed; --apply to make these changes)"
        }
    );
    out
}
