//! OpenTelemetry in the trace-path finding.

use super::*;
use crate::asff::FIELD_PREFIX;
use crate::trace_path::{FunctionRef, FunctionState, Otel};
use apigw_tracing_rule::testing::stage;

#[test]
fn an_opentelemetry_function_is_named_and_a_split_trace_is_said() {
    let adot = "arn:aws:lambda:eu-west-1:615299751070:layer:AWSOpenTelemetryDistroPython:5";
    let function = |name: &str, propagators: Option<&str>| PathFunction {
        function: FunctionRef::parse_arn(&format!(
            "arn:aws:lambda:eu-west-1:222222222222:function:{name}"
        ))
        .unwrap(),
        authorizer: false,
        state: FunctionState {
            mode: FunctionMode::Active,
            role: None,
            otel: Otel::from_parts([adot], None, propagators),
        },
    };
    let ev = PathEvaluation {
        stage: stage("api1", "prod", true),
        status: PathStatus::Passed,
        functions: vec![
            function("orders", Some("tracecontext")),
            function("pay", None),
        ],
        not_traceable: vec![],
        unresolved: vec![],
    };
    let f = build_path_finding(&ev, Utc::now(), None).unwrap();
    assert_eq!(
        f.compliance.status,
        Compliance::Passed,
        "the verdict does not change"
    );
    assert!(
        f.description.contains(
            "orders runs OpenTelemetry, and its OTEL_PROPAGATORS (tracecontext) leaves out xray"
        ),
        "{}",
        f.description
    );
    assert_eq!(
        f.product_fields[&format!("{FIELD_PREFIX}PropagatorsWithoutXray")],
        "orders (222222222222, Active, OpenTelemetry)"
    );
    assert!(f.product_fields[&format!("{FIELD_PREFIX}OpenTelemetry")]
        .contains("pay (222222222222, Active, OpenTelemetry)"));
    assert!(super::super::validate(&f).is_ok());
}
