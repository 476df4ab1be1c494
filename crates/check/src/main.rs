//! `apigw-tracing-check`: the gate, alone (no AWS SDK, no async runtime):
//! the same arguments, output and exit status as `apigw-tracing check`.

fn main() -> std::process::ExitCode {
    let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr());
    let mut out = apigw_tracing_check::cli::Output::new(&mut stdout, &mut stderr);
    apigw_tracing_check::cli::main(std::env::args_os(), &mut out).into()
}
