//! The `apigw-tracing` command line.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::aws::AwsEnv;
use crate::config::ScanArgs;
use crate::report::{chain, RunStatus, Summary};
use crate::scan::{self, ScanError, ScanOptions};
use crate::trigger::{ScanRequest, Trigger};

/// Exit status: everything scanned and published.
pub const EXIT_COMPLETE: u8 = 0;
/// Something could not be scanned or published (see the summary's errors).
pub const EXIT_PARTIAL: u8 = 1;
/// Usage or configuration error; nothing was scanned.
pub const EXIT_USAGE: u8 = 2;
/// `--fail-on-findings` and at least one stage fails the check.
pub const EXIT_FINDINGS: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "apigw-tracing",
    version,
    about = "Find API Gateway REST API stages without X-Ray active tracing across an AWS Organization and report them to Security Hub",
    after_help = "Exit status: 0 complete, 1 partial (something could not be scanned or published), \
                  2 usage or configuration error, 3 with --fail-on-findings when a stage fails the check.\n\
                  AWS credentials, region and endpoint come from the standard SDK configuration \
                  (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan the configured accounts and regions and publish findings.
    Scan(Box<ScanCommand>),
    /// Turn X-Ray tracing on for the stages that fail the check (UpdateStage
    /// through the member remediation role). Without --apply nothing is
    /// changed: it prints what it would change.
    Remediate(Box<RemediateCommand>),
    /// Check Terraform plans (terraform show -json) and CloudFormation, SAM
    /// or CDK templates for REST API stages without X-Ray tracing, before
    /// deploy. Exit 0: no stage fails; 3: a stage fails; 2: usage error.
    Check(CheckCommand),
    /// Print a shell completion script, e.g. `apigw-tracing completions bash
    /// > /etc/bash_completion.d/apigw-tracing`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct ScanCommand {
    #[command(flatten)]
    pub args: ScanArgs,

    /// What to print on standard output: a table, the summary as JSON, or
    /// the ASFF findings exactly as sent (or, with --dry-run, as they would be).
    #[arg(long, env = "APIGW_TRACING_FORMAT", value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Exit with status 3 when any stage fails the check.
    #[arg(long, env = "APIGW_TRACING_FAIL_ON_FINDINGS", action = ArgAction::SetTrue)]
    pub fail_on_findings: bool,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RemediateFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckCommand {
    /// table: a line per stage; json: results and summary; sarif: SARIF
    /// 2.1.0 for code scanning.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,

    /// Files or directories (walked for .json, .yaml, .yml and .template
    /// files; .git, .terraform and node_modules skipped).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Table,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Asff,
}

/// The exit status for a finished run. A partial run wins over failing
/// stages: its picture of the findings is incomplete.
pub fn exit_code(summary: &Summary, fail_on_findings: bool) -> u8 {
    if summary.status == RunStatus::Partial {
        EXIT_PARTIAL
    } else if fail_on_findings && summary.totals.failing > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_COMPLETE
    }
}

/// Runs the command; returns the exit status. Output goes to stdout, logs
/// and errors to stderr.
pub async fn run(cli: Cli) -> u8 {
    let cmd = match cli.command {
        Command::Scan(cmd) => *cmd,
        Command::Check(cmd) => return run_check(&cmd),
        Command::Remediate(cmd) => return crate::remediate::cli::run(&cmd).await,
        Command::Completions { shell } => {
            let mut script = Vec::new();
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "apigw-tracing", &mut script);
            emit(&script);
            return EXIT_COMPLETE;
        }
    };
    let cfg = match cmd.args.validate() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("apigw-tracing: configuration error: {}", chain(&e));
            return EXIT_USAGE;
        }
    };
    let env = AwsEnv::load(&cfg).await;
    let req = ScanRequest {
        trigger: Trigger::Cli,
        ..ScanRequest::default()
    };
    let opts = ScanOptions {
        collect_findings: cmd.format == Format::Asff,
        ..ScanOptions::default()
    };
    match scan::run(&env, &cfg, &req, opts).await {
        Ok(out) => {
            match cmd.format {
                Format::Table => emit(out.summary.render_table().as_bytes()),
                Format::Json => print_json(&out.summary),
                Format::Asff => {
                    print_json(&out.findings);
                    eprint!("{}", out.summary.render_table());
                }
            }
            exit_code(&out.summary, cmd.fail_on_findings)
        }
        Err(e) => {
            eprintln!("apigw-tracing: {}", chain(&e));
            match e {
                ScanError::Scope(_) => EXIT_USAGE,
                ScanError::Accounts(_) => EXIT_PARTIAL,
            }
        }
    }
}

/// `check`: 0 when no stage fails, 3 when one does, 2 for usage errors.
fn run_check(cmd: &CheckCommand) -> u8 {
    let cwd = std::env::current_dir().unwrap_or_default();
    let today = chrono::Utc::now().date_naive();
    let checked = match crate::check::output::check_paths(&cmd.paths, &cwd, today) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("apigw-tracing: {}", chain(&e));
            return EXIT_USAGE;
        }
    };
    match cmd.format {
        CheckFormat::Table => emit(crate::check::output::table(&checked).as_bytes()),
        CheckFormat::Json => print_json(&checked),
        CheckFormat::Sarif => {
            print_json(&crate::check::sarif::to_sarif(&checked));
            eprint!("{}", crate::check::output::table(&checked));
        }
    }
    if checked.summary.failed > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_COMPLETE
    }
}

/// Streams `v` to stdout (an organization's summary is several MB: no
/// intermediate string).
fn print_json<T: serde::Serialize>(v: &T) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, v)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    quiet_on_closed_pipe(written);
}

/// Writes `bytes` to stdout.
pub fn emit(bytes: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    quiet_on_closed_pipe(out.write_all(bytes).and_then(|()| out.flush()));
}

/// A reader that stopped reading (`| head -1`) is not a failure: like
/// ripgrep, stop writing quietly. Any other write error is reported once.
fn quiet_on_closed_pipe(written: std::io::Result<()>) {
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => eprintln!("apigw-tracing: cannot write the output: {e}"),
    }
}
