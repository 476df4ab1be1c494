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
