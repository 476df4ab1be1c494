//! Log set-up: JSON lines in Lambda (CloudWatch Logs Insights queries them
//! by field), human-readable on a terminal. Both go to stderr for the CLI
//! so stdout stays machine-readable.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// The filter for Lambda: the function's `ApplicationLogLevel`
/// (`AWS_LAMBDA_LOG_LEVEL`, set by Lambda from the logging configuration),
/// else `RUST_LOG`, else `info`.
pub fn lambda_filter(aws_level: Option<&str>, rust_log: Option<&str>) -> EnvFilter {
    let from_aws = aws_level.and_then(|l| match l.to_ascii_uppercase().as_str() {
        "TRACE" => Some("trace"),
        "DEBUG" => Some("debug"),
        "INFO" => Some("info"),
        "WARN" => Some("warn"),
        // Rust's `tracing` has no FATAL: ERROR is the closest.
        "ERROR" | "FATAL" => Some("error"),
        _ => None,
    });
    let filter = from_aws
        .map(EnvFilter::new)
        .or_else(|| rust_log.and_then(|r| EnvFilter::try_new(r).ok()))
        .unwrap_or_else(|| EnvFilter::new("info"));
    with_audit(filter)
}

/// Every change remediation makes is logged (the `audit` target), whatever
/// filter is set: `RUST_LOG=apigw_tracing=info` would otherwise hide them.
const AUDIT: &str = "audit=info";

fn with_audit(filter: EnvFilter) -> EnvFilter {
    filter.add_directive(AUDIT.parse().expect("a valid directive"))
}

/// One JSON object per line. The fields of the enclosing spans (`account`,
/// `region`, `api_id`, ...) sit at the top level of each line beside the
/// event's own, so `filter account = "..."` works in Logs Insights.
pub fn init_lambda() {
    let filter = lambda_filter(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    );
    let mut json = json_subscriber::JsonLayer::stdout();
    json.with_timer("timestamp", tracing_subscriber::fmt::time::SystemTime)
        .with_level("level")
        .with_top_level_flattened_span_list()
        .with_flattened_event();
    tracing_subscriber::registry()
        .with(filter)
        .with(json)
        .init();
}

/// The CLI's default: warnings, and every change remediation makes (the
/// `audit` target), one line each.
pub const CLI_FILTER: &str = "apigw_tracing=warn,audit=info";

pub fn init_cli() {
    use std::io::IsTerminal;
    let filter = with_audit(
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(CLI_FILTER)),
    );
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// Stack for every thread that polls scan futures: the SDK's Security Hub
/// types are large, and debug builds overflowed the default 8 MB.
const STACK_BYTES: usize = 32 * 1024 * 1024;

/// Runs the future `main()` makes to completion on a multi-threaded
/// runtime, polled from a thread with a large stack (worker threads get the
/// same). The future is made on that thread, so it need not be `Send`.
pub fn block_on<M, F, T>(main: M) -> std::io::Result<T>
where
    M: FnOnce() -> F + Send + 'static,
    F: std::future::Future<Output = T>,
    T: Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(STACK_BYTES)
        .build()?;
    std::thread::Builder::new()
        .name("apigw-tracing-main".into())
        .stack_size(STACK_BYTES)
        .spawn(move || rt.block_on(main()))?
        .join()
        .map_err(|_| std::io::Error::other("the main task panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_functions_log_level_wins_over_rust_log() {
        for (aws, rust, want) in [
            (Some("DEBUG"), Some("warn"), "debug"),
            (Some("FATAL"), None, "error"),
            (Some("nonsense"), Some("warn"), "warn"),
            (None, Some("apigw_tracing=trace"), "apigw_tracing=trace"),
            (None, None, "info"),
        ] {
            let got = lambda_filter(aws, rust).to_string();
            assert!(got.split(',').any(|d| d == want), "{aws:?} {rust:?}: {got}");
        }
    }

    #[test]
    fn audit_lines_stay_on_whatever_the_filter() {
        for (aws, rust) in [
            (None, Some("apigw_tracing=info")),
            (None, Some("audit=off")),
            (Some("ERROR"), None),
            (None, None),
        ] {
            let got = lambda_filter(aws, rust).to_string();
            assert!(
                got.split(',').any(|d| d == AUDIT),
                "{aws:?} {rust:?}: {got}"
            );
        }
    }
}
