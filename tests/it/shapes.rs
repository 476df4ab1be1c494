//! The shapes users have now, end to end: a response-streaming Lambda
//! integration on a traced stage's path in a scan against moto. (A plain
//! function ARN as a REST integration URI is refused by API Gateway, and by
//! moto as it does: "AWS ARN for integration must contain path or action";
//! the trace path reads one where a template writes it, unit-tested.)

use crate::lambda_kit::{self, Route, Target};
use crate::support::*;

const R: &str = "eu-west-1";

#[tokio::test]
async fn a_streaming_integration_leads_to_its_function() {
    let moto = Moto::start();
    let cfg = moto.account_config(MANAGEMENT, R).await;
    enable_security_hub(&cfg).await;
    let role = lambda_kit::ensure_role(&cfg).await;
    let streamer = lambda_kit::create_function(&cfg, "streamer", false, &role).await;
    let plain = lambda_kit::create_function(&cfg, "plain", true, &role).await;
    // REST API response streaming invokes the function through its own path.
    let streaming = format!(
        "arn:aws:apigateway:{R}:lambda:path/2021-11-15/functions/{streamer}/response-streaming-invocations"
    );
    lambda_kit::create_wired_api(
        &cfg,
        "chat",
        &[
            Route::new("stream", Target::Lambda(streaming)),
            Route::new("plain", Target::Lambda(lambda_kit::lambda_uri(R, &plain))),
        ],
        &[("prod", true, &[])],
    )
    .await;
    let out = scan_with(
        &moto,
        &[
            "--accounts",
            MANAGEMENT,
            "--regions",
            R,
            "--trace-path",
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    let t = &out.summary.totals;
    assert_eq!(
        (t.paths, t.paths_failed, t.paths_unknown),
        (1, 1, 0),
        "{}",
        out.summary.render_table()
    );
    let f = findings(&moto, MANAGEMENT, R)
        .await
        .into_iter()
        .find(|f| f.generator_id == "apigw-tracing/trace-path")
        .unwrap();
    assert!(
        f.description
            .contains(&format!("1 of 2 Lambda function(s) behind it do not trace actively: streamer ({MANAGEMENT}, PassThrough)")),
        "{}",
        f.description
    );
    assert_eq!(f.product_fields["apigw-tracing/scanner/Functions"], "2");
}

/// A function that runs AWS's OpenTelemetry layer with propagators that
/// leave out xray: the path finding says so (the verdict stays Lambda.7's),
/// and no other environment value reaches the finding.
#[tokio::test]
async fn an_opentelemetry_function_is_named_and_its_split_trace_said() {
    use aws_sdk_lambda::types::{
        Environment, FunctionCode, LayerVersionContentInput, Runtime, TracingConfig, TracingMode,
    };
    let moto = Moto::start();
    let cfg = moto.account_config(MANAGEMENT, R).await;
    enable_security_hub(&cfg).await;
    let role = lambda_kit::ensure_role(&cfg).await;
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let zip = || aws_sdk_lambda::primitives::Blob::new(lambda_kit::EMPTY_ZIP.to_vec());
    // moto holds only layers it was given: AWS's layer name, published here.
    let layer = lambda
        .publish_layer_version()
        .layer_name("AWSOpenTelemetryDistroPython")
        .content(LayerVersionContentInput::builder().zip_file(zip()).build())
        .send()
        .await
        .unwrap()
        .layer_version_arn
        .unwrap();
    let otel = lambda
        .create_function()
        .function_name("otel")
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .role(&role)
        .code(FunctionCode::builder().zip_file(zip()).build())
        .tracing_config(TracingConfig::builder().mode(TracingMode::Active).build())
        .layers(layer)
        .environment(
            Environment::builder()
                .variables("AWS_LAMBDA_EXEC_WRAPPER", "/opt/otel-instrument")
                .variables("OTEL_PROPAGATORS", "tracecontext,baggage")
                .variables("DB_PASSWORD", "hunter2-never-copied")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .function_arn
        .unwrap();
    lambda_kit::create_wired_api(
        &cfg,
        "telemetry",
        &[Route::new(
            "go",
            Target::Lambda(lambda_kit::lambda_uri(R, &otel)),
        )],
        &[("prod", true, &[])],
    )
    .await;
    let out = scan_with(
        &moto,
        &[
            "--accounts",
            MANAGEMENT,
            "--regions",
            R,
            "--trace-path",
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    assert_eq!(
        out.summary.totals.paths_failed,
        0,
        "{}",
        out.summary.render_table()
    );
    let f = findings(&moto, MANAGEMENT, R)
        .await
        .into_iter()
        .find(|f| f.generator_id == "apigw-tracing/trace-path")
        .unwrap();
    assert_eq!(f.compliance, "PASSED");
    assert!(
        f.description
            .contains("otel runs OpenTelemetry, and its OTEL_PROPAGATORS (tracecontext,baggage) leaves out xray"),
        "{}",
        f.description
    );
    assert!(f.product_fields["apigw-tracing/scanner/PropagatorsWithoutXray"].starts_with("otel ("));
    let everything = format!("{f:?}");
    assert!(
        !everything.contains("hunter2"),
        "an environment value leaked: {everything}"
    );
}
