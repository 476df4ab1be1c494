//! The gate's command line: `check` (also `apigw-tracing check`, which
//! delegates here), its output and exit status.

mod check;
mod output;

pub use check::{run, CheckCommand, CheckFormat};
pub use output::{ExitStatus, Output};

/// `apigw-tracing-check`: the `check` command as a program of its own.
#[derive(Debug, clap::Parser)]
#[command(
    name = "apigw-tracing-check",
    version,
    about = "Check Terraform (source and plans), OpenTofu, CloudFormation, SAM, CDK and Serverless Framework files for API Gateway REST API stages without X-Ray active tracing",
    after_help = "Exit status: 0 no stage fails, 3 a stage fails, 2 usage error or nothing to check."
)]
pub struct CheckCli {
    #[command(flatten)]
    pub command: CheckCommand,
}

/// Parses `args` (program name first) and runs `check`; clap's own
/// messages (`--help`, a usage error) are written like any other output.
pub fn main<I, T>(args: I, out: &mut Output<'_>) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    match CheckCli::try_parse_from(args) {
        Ok(cli) => run(&cli.command, out),
        Err(e) => clap_ended(e, out),
    }
}

/// What clap stopped with: `--help` or `--version` (written as a result,
/// exit 0) or a usage error (a message, exit 2). Both CLIs end this way.
pub fn clap_ended(e: clap::Error, out: &mut Output<'_>) -> ExitStatus {
    let text = e.render().to_string();
    if e.use_stderr() {
        out.say(&text);
    } else {
        out.emit(text.as_bytes());
    }
    if e.exit_code() == 0 {
        ExitStatus::Complete
    } else {
        ExitStatus::Usage
    }
}
