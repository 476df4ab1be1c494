//! The CloudFormation Lambda hook (`apigw-tracing-hook`, packaged as
//! `bootstrap`): its own function in each member account and region, with
//! no AWS SDK client and no permission but writing its logs. A request that
//! does not parse is an `InvalidEvent` error, never a SUCCESS.

use apigw_tracing_check::{hook, logging};
use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};

fn main() -> Result<(), Error> {
    logging::init_lambda();
    logging::block_on(serve)?
}

async fn serve() -> Result<(), Error> {
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<hook::HookEvent>| async move {
            hook::handle(event.payload, chrono::Utc::now().date_naive()).map_err(|e| Diagnostic {
                error_type: hook::InvalidRequest::ERROR_TYPE.into(),
                error_message: e.to_string(),
            })
        },
    ))
    .await
}
