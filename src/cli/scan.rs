//! `apigw-tracing scan`: 0 complete, 1 partial, 2 usage or configuration
//! error, 3 with `--fail-on-findings` when a stage fails.

use clap::{ArgAction, Args, ValueEnum};

use super::{Aws, ExitStatus, Output};
use crate::config::ScanArgs;
use crate::report::{chain, RunStatus, Summary};
use crate::scan::{self, ScanError, ScanOptions};
use crate::trigger::{ScanRequest, Trigger};

#[derive(Debug, Args)]
pub struct ScanCommand {
    #[command(flatten)]
    pub args: ScanArgs,

    /// What to print on standard output: a table, the summary as JSON, the
    /// ASFF findings exactly as sent (or, with --dry-run, as they would be),
    /// or the same findings as OCSF Compliance Finding events (class 2003).
    #[arg(long, env = "APIGW_TRACING_FORMAT", value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Exit with status 3 when any stage fails the check (or, with
    /// --trace-path, any trace path).
    #[arg(long, env = "APIGW_TRACING_FAIL_ON_FINDINGS", action = ArgAction::SetTrue)]
    pub fail_on_findings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Asff,
    Ocsf,
}

pub async fn run(cmd: ScanCommand, aws: &Aws, out: &mut Output<'_>) -> ExitStatus {
    let cfg = match cmd.args.validate() {
        Ok(cfg) => cfg,
        Err(e) => {
            out.error(&format!("configuration error: {}", chain(&e)));
            return ExitStatus::Usage;
        }
    };
    let env = aws.env(&cfg).await;
    let req = ScanRequest {
        trigger: Trigger::Cli,
        ..ScanRequest::default()
    };
    let opts = ScanOptions {
        collect_findings: matches!(cmd.format, Format::Asff | Format::Ocsf),
        ..ScanOptions::default()
    };
    match scan::run(&env, &cfg, &req, opts).await {
        Ok(run) => {
            match cmd.format {
                Format::Table => out.emit(run.summary.render_table().as_bytes()),
                Format::Json => out.json(&run.summary),
                Format::Asff => {
                    out.json(&run.findings);
                    out.say(&run.summary.render_table());
                }
                Format::Ocsf => {
                    let events: Vec<_> = run
                        .findings
                        .iter()
                        .map(crate::asff::ocsf::compliance_finding)
                        .collect();
                    out.json(&events);
                    out.say(&run.summary.render_table());
                }
            }
            exit_status(&run.summary, cmd.fail_on_findings)
        }
        Err(e) => {
            out.error(&chain(&e));
            match e {
                ScanError::Scope(_) => ExitStatus::Usage,
                ScanError::Accounts(_) => ExitStatus::Partial,
            }
        }
    }
}

/// The exit status of a finished scan. A partial run wins over failing
/// stages: its picture of the findings is incomplete.
pub fn exit_status(summary: &Summary, fail_on_findings: bool) -> ExitStatus {
    if summary.status == RunStatus::Partial {
        ExitStatus::Partial
    } else if fail_on_findings
        && (summary.totals.failing > 0
            || summary.totals.paths_failed > 0
            || summary.totals.sampling_failed > 0)
    {
        ExitStatus::Findings
    } else {
        ExitStatus::Complete
    }
}
