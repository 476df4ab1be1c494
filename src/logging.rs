//! Log set-up: JSON lines in Lambda (CloudWatch Logs Insights queries them
//! by field), human-readable on a terminal. Both go to stderr for the CLI
//! so stdout stays machine-readable.

use tracing_subscriber::EnvFilter;

pub fn init_lambda() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(false)
        .with_ansi(false)
        .init();
}

pub fn init_cli() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("apigw_tracing=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
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
