//! The `apigw-tracing` command line: one file per command (`scan`, `check`,
//! `remediate`, `completions`), each deciding its [`ExitStatus`] in one
//! place and writing to the [`Output`] it is given, so tests run commands
//! in-process and read what they print.

use clap::{Parser, Subcommand};

mod completions;
mod remediate;
mod scan;

// `check` is the gate's, with its output and exit status.
pub use apigw_tracing_check::cli::{CheckCommand, CheckFormat, ExitStatus, Output};
pub use remediate::{RemediateCommand, RemediateFormat};
pub use scan::{Format, ScanCommand};

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

/// Where the AWS configuration comes from: the SDK's default chain
/// (environment, profile, role), or one given (tests: a moto server).
#[derive(Debug, Clone, Default)]
pub enum Aws {
    #[default]
    Default,
    Given(Box<aws_config::SdkConfig>),
}

impl Aws {
    /// The run's AWS environment with `cfg`'s retry and timeout settings.
    pub async fn env(&self, cfg: &crate::config::Config) -> crate::aws::AwsEnv {
        match self {
            Aws::Default => crate::aws::AwsEnv::load(cfg).await,
            Aws::Given(sdk) => crate::aws::AwsEnv::from_sdk_config((**sdk).clone(), cfg),
        }
    }
}

/// The whole command line: parses `args` (program name first), runs the
/// command, returns how it ended. Clap's own messages (`--help`, a usage
/// error) are written like any other output.
pub async fn main<I, T>(args: I, aws: &Aws, out: &mut Output<'_>) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => run(cli, aws, out).await,
        Err(e) => apigw_tracing_check::cli::clap_ended(e, out),
    }
}

/// Runs a parsed command. Results go to `out.stdout`, messages to
/// `out.stderr`; logs go where `logging` sent them.
pub async fn run(cli: Cli, aws: &Aws, out: &mut Output<'_>) -> ExitStatus {
    match cli.command {
        Command::Scan(cmd) => scan::run(*cmd, aws, out).await,
        Command::Check(cmd) => apigw_tracing_check::cli::run(&cmd, out),
        Command::Remediate(cmd) => remediate::run(&cmd, aws, out).await,
        Command::Completions { shell } => completions::run(shell, out),
    }
}
