//! OpenTelemetry notes on the trace path, from each source `check` reads.

use serde_json::json;

use crate::check::{judge, judge_path, template, yaml};
use apigw_tracing_rule::testing::today;

const ADOT: &str = "arn:aws:lambda:eu-west-1:615299751070:layer:AWSOpenTelemetryDistroPython:5";

/// The trace-path message of every stage of a template.
fn template_paths(text: &str) -> Vec<String> {
    let doc = yaml::parse(text).unwrap();
    template::stages(&doc)
        .into_iter()
        .filter_map(|mut s| {
            let path = std::mem::take(&mut s.path);
            let (r, _) = judge("t.yaml", s, today());
            judge_path(path, &r).map(|p| p.message)
        })
        .collect()
}

#[test]
fn cloudformation_layers_and_variables_name_opentelemetry_and_a_split_trace() {
    let text = format!(
        "Resources:\n  Api: {{Type: AWS::ApiGateway::RestApi, Properties: {{Name: a}}}}\n  S:\n    Type: AWS::ApiGateway::Stage\n    Properties: {{RestApiId: !Ref Api, StageName: p, TracingEnabled: true}}\n  M:\n    Type: AWS::ApiGateway::Method\n    Properties:\n      RestApiId: !Ref Api\n      Integration: {{Type: AWS_PROXY, Uri: !Sub \"arn:aws:apigateway:r:lambda:path/2021-11-15/functions/${{F.Arn}}/response-streaming-invocations\"}}\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      TracingConfig: {{Mode: Active}}\n      Layers: [\"{ADOT}\"]\n      Environment: {{Variables: {{OTEL_PROPAGATORS: tracecontext, SECRET: hunter2}}}}\n"
    );
    let messages = template_paths(&text);
    assert_eq!(messages.len(), 1, "the streaming URI names F: {messages:?}");
    assert!(
        messages[0].contains(
            "F runs OpenTelemetry, and its OTEL_PROPAGATORS (tracecontext) leaves out xray"
        ),
        "{}",
        messages[0]
    );
    assert!(!messages[0].contains("hunter2"));
}

#[test]
fn terraform_layers_and_environment_name_opentelemetry_in_source_and_plan() {
    let dir = crate::check::tfsource::tests::tree(
        "otel",
        &[(
            "main.tf",
            &format!(
                "resource \"aws_api_gateway_rest_api\" \"a\" {{\n  name = \"a\"\n}}\nresource \"aws_api_gateway_stage\" \"s\" {{\n  rest_api_id = aws_api_gateway_rest_api.a.id\n  stage_name = \"p\"\n  xray_tracing_enabled = true\n}}\nresource \"aws_api_gateway_integration\" \"i\" {{\n  rest_api_id = aws_api_gateway_rest_api.a.id\n  type = \"AWS_PROXY\"\n  uri = aws_lambda_function.f.invoke_arn\n}}\nresource \"aws_lambda_function\" \"f\" {{\n  function_name = \"f\"\n  layers = [\"{ADOT}\"]\n  tracing_config {{\n    mode = \"Active\"\n  }}\n  environment {{\n    variables = {{\n      OTEL_PROPAGATORS = \"xray,tracecontext\"\n    }}\n  }}\n}}\n"
            ),
        )],
    );
    let report = crate::check::tfsource::check(
        &[(dir, false)],
        &crate::check::tfsource::Options {
            var_files: vec![],
            max_file_size: 1 << 20,
        },
        std::path::Path::new("/"),
    )
    .unwrap();
    let f = &report.stages[0].stage.path[0];
    assert!(f.otel.instrumented && !f.otel.splits(), "{f:?}");
    // The plan: `after.layers` and `after.environment[0].variables`.
    let after =
        json!({"layers": [ADOT], "environment": [{"variables": {"OTEL_PROPAGATORS": "b3"}}]});
    let otel = super::from_terraform(&after["layers"], &after["environment"][0]["variables"]);
    assert!(otel.splits());
}
