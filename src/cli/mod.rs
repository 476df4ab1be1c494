//! The `apigw-tracing` command line: one file per command (`scan`, `check`,
//! `remediate`, `completions`), each deciding its [`ExitStatus`] in one
//! place and writing to the [`Output`] it is given, so tests run commands
//! in-process and read what they print.

use std::io::Write;

use clap::{Parser, Subcommand};

mod check;
mod completions;
mod remediate;
mod scan;

pub use check::{CheckCommand, CheckFormat};
pub use remediate::{RemediateCommand, RemediateFormat};
pub use scan::{Format, ScanCommand};

/// How a command ended, as its exit code tells other tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything done (scanned and published; no failing stage for
    /// `check`; every planned change made or planned).
    Complete,
    /// 1: something could not be scanned, published or changed (see the
    /// report's errors).
    Partial,
    /// 2: usage or configuration error; nothing was done.
    Usage,
    /// 3: a stage fails the check (`check`, or `scan --fail-on-findings`).
    Findings,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Complete => 0,
            ExitStatus::Partial => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Findings => 3,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

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
        Err(e) => {
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
    }
}

/// Runs a parsed command. Results go to `out.stdout`, messages to
/// `out.stderr`; logs go where `logging` sent them.
pub async fn run(cli: Cli, aws: &Aws, out: &mut Output<'_>) -> ExitStatus {
    match cli.command {
        Command::Scan(cmd) => scan::run(*cmd, aws, out).await,
        Command::Check(cmd) => check::run(&cmd, out),
        Command::Remediate(cmd) => remediate::run(&cmd, aws, out).await,
        Command::Completions { shell } => completions::run(shell, out),
    }
}

/// Where a command writes: its results (standard output) and its messages
/// (standard error). A reader that stopped reading (`| head -1`) is not a
/// failure: like ripgrep, the command stops writing quietly. Any other
/// write error is reported once.
pub struct Output<'a> {
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
    closed: bool,
}

impl<'a> Output<'a> {
    pub fn new(stdout: &'a mut dyn Write, stderr: &'a mut dyn Write) -> Self {
        Self {
            stdout,
            stderr,
            closed: false,
        }
    }

    /// Writes `bytes` as a result.
    pub fn emit(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        let written = self
            .stdout
            .write_all(bytes)
            .and_then(|()| self.stdout.flush());
        self.settle(written);
    }

    /// Streams `v` as pretty JSON (an organization's summary is several
    /// MB: no intermediate string).
    pub fn json<T: serde::Serialize>(&mut self, v: &T) {
        if self.closed {
            return;
        }
        let mut buffered = std::io::BufWriter::new(&mut *self.stdout);
        let written = serde_json::to_writer_pretty(&mut buffered, v)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(buffered))
            .and_then(|()| buffered.flush());
        drop(buffered);
        self.settle(written);
    }

    /// A message for the person running the command (standard error).
    pub fn say(&mut self, text: &str) {
        let _ = self.stderr.write_all(text.as_bytes());
        let _ = self.stderr.flush();
    }

    /// `apigw-tracing: <message>` on standard error, one line.
    pub fn error(&mut self, message: &str) {
        self.say(&format!("apigw-tracing: {message}\n"));
    }

    fn settle(&mut self, written: std::io::Result<()>) {
        match written {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.closed = true,
            Err(e) => {
                self.closed = true;
                self.error(&format!("cannot write the output: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that has gone away.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_reader_ends_the_output_quietly_and_other_errors_are_said_once() {
        let (mut stdout, mut stderr) = (Closed, Vec::new());
        {
            let mut out = Output::new(&mut stdout, &mut stderr);
            out.emit(b"table");
            out.json(&serde_json::json!({"a": 1}));
        }
        assert!(stderr.is_empty(), "{}", String::from_utf8_lossy(&stderr));

        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (mut stdout, mut stderr) = (Full, Vec::new());
        {
            let mut out = Output::new(&mut stdout, &mut stderr);
            out.emit(b"a");
            out.emit(b"b");
        }
        let said = String::from_utf8(stderr).unwrap();
        assert_eq!(said, "apigw-tracing: cannot write the output: disk full\n");
        assert_eq!(std::process::ExitCode::from(ExitStatus::Findings), 3.into());
    }
}
