//! `apigw-tracing`: the command line.

use apigw_tracing::cli::{self, Aws, ExitStatus, Output};

fn main() -> std::process::ExitCode {
    apigw_tracing::logging::init_cli();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let status = apigw_tracing::logging::block_on(move || async move {
        let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr());
        cli::main(
            args,
            &Aws::Default,
            &mut Output::new(&mut stdout, &mut stderr),
        )
        .await
    })
    .unwrap_or_else(|e| {
        eprintln!("apigw-tracing: {e}");
        ExitStatus::Partial
    });
    status.into()
}
