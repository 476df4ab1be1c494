//! The Lambda function (packaged as `bootstrap` for provided.al2023).

use apigw_tracing::aws::AwsEnv;
use apigw_tracing::config::ScanArgs;
use apigw_tracing::lambda::Handler;
use lambda_runtime::{service_fn, Error};

fn main() -> Result<(), Error> {
    apigw_tracing::logging::init_lambda();
    apigw_tracing::logging::block_on(serve)?
}

async fn serve() -> Result<(), Error> {
    // A bad setting fails the init phase, visibly: one JSON log line and
    // Lambda's init-error endpoint, both naming the variable and the rule.
    let cfg = match ScanArgs::from_env_checked() {
        Ok(cfg) => cfg,
        Err(e) => return Err(apigw_tracing::lambda::init_failed(e).await),
    };
    let env = AwsEnv::load(&cfg).await;
    let handler = Handler::new(env, cfg);
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event| handler.handle(event))).await
}
