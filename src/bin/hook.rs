//! The CloudFormation Lambda hook (`apigw-tracing-hook`, packaged as
//! `bootstrap`): its own function in each member account and region, with
//! no AWS SDK client and no permission but writing its logs. A request that
//! does not parse is an `InvalidEvent` error, never a SUCCESS.

use lambda_runtime::{service_fn, Error, LambdaEvent};

fn main() -> Result<(), Error> {
    apigw_tracing::logging::init_lambda();
    apigw_tracing::logging::block_on(serve)?
}

async fn serve() -> Result<(), Error> {
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<apigw_tracing::hook::HookEvent>| async move {
            apigw_tracing::hook::handle(event.payload, chrono::Utc::now().date_naive())
        },
    ))
    .await
}
