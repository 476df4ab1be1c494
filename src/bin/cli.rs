//! `apigw-tracing`: the command line.

use apigw_tracing::cli::{self, Cli, EXIT_PARTIAL};
use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    apigw_tracing::logging::init_cli();
    let code = apigw_tracing::logging::block_on(move || cli::run(args)).unwrap_or_else(|e| {
        eprintln!("apigw-tracing: {e}");
        EXIT_PARTIAL
    });
    std::process::ExitCode::from(code)
}
