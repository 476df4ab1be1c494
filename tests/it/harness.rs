//! Helpers for the integration tests only (support.rs is shared with the
//! demo and bench programs, which have neither the CLI binary path nor the
//! fault proxy).

use std::process::Command;

use crate::support::{scan_at, Moto};

/// One scan with every request through `proxy` (a fault proxy in front of
/// this server), as the management account.
pub async fn scan_via(
    moto: &Moto,
    proxy: &crate::proxy::FaultProxy,
    args: &[&str],
) -> apigw_tracing::report::Summary {
    scan_at(moto, &proxy.endpoint, args).await.summary
}

/// The CLI `apigw-tracing scan ARGS`, environment cleared, AWS pointed at
/// `endpoint` (this server, or a proxy in front of it).
pub fn cli_command(moto: &Moto, endpoint: &str, args: &[&str]) -> std::process::Command {
    cli_subcommand(moto, endpoint, "scan", args)
}

/// `apigw-tracing SUBCOMMAND ARGS`, the same way.
pub fn cli_subcommand(
    moto: &Moto,
    endpoint: &str,
    subcommand: &str,
    args: &[&str],
) -> std::process::Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-tracing"));
    cmd.arg(subcommand)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in moto.cli_env() {
        cmd.env(k, v);
    }
    cmd.env("AWS_ENDPOINT_URL", endpoint);
    cmd
}

/// How an in-process command ended, shaped like `std::process::Output` so a
/// test reads it the same way.
pub struct Ran {
    pub status: RanStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

pub struct RanStatus(pub apigw_tracing::cli::ExitStatus);

impl RanStatus {
    pub fn code(&self) -> Option<i32> {
        Some(i32::from(self.0.code()))
    }
}

/// `apigw-tracing ARGS` run in this process (the same `cli::main` the
/// binary runs), AWS pointed at `endpoint` (this server, or a proxy in
/// front of it) as the management account.
pub async fn run_cli(moto: &Moto, endpoint: &str, args: &[&str]) -> Ran {
    let sdk = moto.sdk_config_via(endpoint, "us-east-1").await;
    run_cli_with(&apigw_tracing::cli::Aws::Given(Box::new(sdk)), args).await
}

/// `apigw-tracing ARGS` in this process, with no AWS behind it (`check`,
/// `completions`, usage errors).
pub async fn run_offline(args: &[&str]) -> Ran {
    run_cli_with(&apigw_tracing::cli::Aws::Default, args).await
}

async fn run_cli_with(aws: &apigw_tracing::cli::Aws, args: &[&str]) -> Ran {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let argv = std::iter::once("apigw-tracing").chain(args.iter().copied());
    let status = {
        let mut out = apigw_tracing::cli::Output::new(&mut stdout, &mut stderr);
        apigw_tracing::cli::main(argv, aws, &mut out).await
    };
    Ran {
        status: RanStatus(status),
        stdout,
        stderr,
    }
}
