//! The Lambda function (packaged as `bootstrap` for provided.al2023).

use apigw_tracing::aws::AwsEnv;
use apigw_tracing::config::ScanArgs;
use apigw_tracing::lambda::Handler;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

fn main() -> Result<(), Error> {
    apigw_tracing::logging::init_lambda();
    apigw_tracing::logging::block_on(serve)?
}

async fn serve() -> Result<(), Error> {
    // A bad setting fails the init phase with the reason in the log, before
    // any event is taken.
    let cfg = ScanArgs::from_env()?.validate()?;
    let env = AwsEnv::load(&cfg).await;
    let handler = Handler::new(env, cfg);
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        handler.handle(event.payload, event.context.deadline)
    }))
    .await
}
