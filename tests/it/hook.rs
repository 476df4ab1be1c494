//! The CloudFormation Lambda hook binary (`apigw-tracing-hook`), driven
//! through the Lambda Runtime API as CloudFormation's hook invocations
//! would drive it; and the hook against `check`: every Stage and Deployment
//! of the CloudFormation fixtures, sent as a hook request, gets the verdict
//! `check` gives it.

use std::time::Duration;

use serde_json::{json, Value};

#[path = "../../crates/check/tests/spec/tree_json.rs"]
mod tree_json;
use tree_json::to_json;

use crate::harness::run_offline;
use crate::runtime_api::{LambdaProcess, Outcome, RuntimeApi};

fn request(token: &str, kind: &str, id: &str, props: Value) -> Value {
    json!({
        "clientRequestToken": token,
        "awsAccountId": "111122223333",
        "stackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/orders/1",
        "changeSetId": null,
        "hookTypeName": "ApigwTracing::Hooks::StageTracing",
        "hookTypeVersion": "00000001",
        "hookModel": {"LambdaFunction": "arn:aws:lambda:eu-west-1:111122223333:function:apigw-tracing-hook"},
        "actionInvocationPoint": "CREATE_PRE_PROVISION",
        "requestData": {
            "targetName": kind,
            "targetType": "RESOURCE",
            "targetLogicalId": id,
            "targetModel": {"resourceProperties": props}
        },
        "requestContext": {"invocation": 1, "callbackContext": null}
    })
}

fn start() -> (RuntimeApi, LambdaProcess) {
    let api = RuntimeApi::start();
    let f = LambdaProcess::start_binary(
        &hook_bin(),
        &api,
        &[(
            "AWS_LAMBDA_FUNCTION_NAME".into(),
            "apigw-tracing-hook".into(),
        )],
    );
    (api, f)
}

/// An `AWS::XRay::SamplingRule`'s properties as CloudFormation hands them
/// to a hook (every value a string).
fn sampling_rule(reservoir: &str, rate: &str, tags: Value) -> Value {
    json!({
        "SamplingRule": {
            "RuleName": "r", "Priority": "10", "ReservoirSize": reservoir, "FixedRate": rate,
            "ServiceName": "orders/*", "ServiceType": "AWS::ApiGateway::Stage", "ResourceARN": "*",
            "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": "1"
        },
        "Tags": tags
    })
}

fn answer(api: &RuntimeApi, f: &LambdaProcess, event: &Value) -> Outcome {
    let id = api.push(event, Duration::from_secs(30));
    api.outcome(&id, Duration::from_secs(20))
        .unwrap_or_else(|| panic!("no answer; log: {:?}", f.log()))
}

#[test]
fn the_hook_binary_answers_cloudformation_through_the_runtime_api() {
    let (api, f) = start();
    let stage = "AWS::ApiGateway::Stage";
    let rule = "AWS::XRay::SamplingRule";
    let cases = [
        (
            "compliant",
            request(
                "t1",
                stage,
                "Prod",
                json!({"StageName": "prod", "TracingEnabled": true}),
            ),
            "SUCCESS",
        ),
        (
            "non-compliant",
            request("t2", stage, "Dev", json!({"StageName": "dev"})),
            "FAILED",
        ),
        (
            "string booleans",
            request(
                "t3",
                stage,
                "Str",
                json!({"StageName": "s", "TracingEnabled": "true"}),
            ),
            "SUCCESS",
        ),
        (
            "string false",
            request(
                "t4",
                stage,
                "StrOff",
                json!({"StageName": "s", "TracingEnabled": "false"}),
            ),
            "FAILED",
        ),
        (
            "deployment with StageName",
            request(
                "t5",
                "AWS::ApiGateway::Deployment",
                "Deploy",
                json!({"RestApiId": "a1", "StageName": "Stage"}),
            ),
            "FAILED",
        ),
        (
            "exempt",
            request(
                "t6",
                stage,
                "Legacy",
                json!({"StageName": "legacy", "Tags": [{"Key": "apigw-tracing:exempt", "Value": "vendor proxy"}]}),
            ),
            "SUCCESS",
        ),
        (
            "malformed exemption",
            request(
                "t7",
                stage,
                "Bad",
                json!({"StageName": "b", "Tags": [
                    {"Key": "apigw-tracing:exempt", "Value": "r"},
                    {"Key": "apigw-tracing:exempt-until", "Value": "soon"}
                ]}),
            ),
            "FAILED",
        ),
        (
            "other type",
            request("t8", "AWS::S3::Bucket", "Bucket", json!({})),
            "SUCCESS",
        ),
        (
            "a sampling rule that blinds the stages it takes (values as strings)",
            request("t10", rule, "Quiet", sampling_rule("0", "0", json!([]))),
            "FAILED",
        ),
        (
            "a sampling rule that records",
            request("t11", rule, "Fine", sampling_rule("1", "0.05", json!([]))),
            "SUCCESS",
        ),
        (
            "an exempted silent sampling rule",
            request(
                "t12",
                rule,
                "Muted",
                sampling_rule(
                    "0",
                    "0",
                    json!([{"Key": "apigw-tracing:exempt", "Value": "load test stage"}]),
                ),
            ),
            "SUCCESS",
        ),
    ];
    for (what, event, status) in &cases {
        match answer(&api, &f, event) {
            Outcome::Response(r) => {
                assert_eq!(r["hookStatus"], *status, "{what}: {r}");
                assert_eq!(
                    r["clientRequestToken"], event["clientRequestToken"],
                    "{what}"
                );
                let message = r["message"].as_str().unwrap();
                if *status == "FAILED" {
                    assert_eq!(r["errorCode"], "NonCompliant", "{what}: {r}");
                    let id = event["requestData"]["targetLogicalId"].as_str().unwrap();
                    assert!(
                        message.contains(id) && message.contains("fix:"),
                        "{what}: {message}"
                    );
                } else {
                    assert!(r.get("errorCode").is_none(), "{what}: {r}");
                }
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // A request that does not parse: an error, never a SUCCESS.
    match answer(
        &api,
        &f,
        &json!({"clientRequestToken": "t9", "requestData": {}}),
    ) {
        Outcome::Error { error_type, body } => {
            assert_eq!(error_type, "InvalidEvent", "{body}");
        }
        other => panic!("malformed request: {other:?}"),
    }
    // One structured line per decision: account, stack, logical id, verdict.
    let decisions: Vec<Value> = f
        .json_log()
        .into_iter()
        .filter(|l| l["message"] == "hook decision" || l["fields"]["message"] == "hook decision")
        .collect();
    assert_eq!(decisions.len(), cases.len(), "{:?}", f.log());
    let dev = decisions
        .iter()
        .find(|l| l["logical_id"] == "Dev")
        .unwrap_or_else(|| panic!("{decisions:?}"));
    assert_eq!(dev["verdict"], "FAILED");
    assert_eq!(dev["account"], "111122223333");
    assert!(dev["stack"].as_str().unwrap().contains("stack/orders"));
}

/// Every Stage and Deployment-with-StageName of the CloudFormation
/// fixtures, as `check` judges it and as the hook decides it.
#[tokio::test]
async fn the_hook_gives_the_verdicts_check_gives() {
    let mut compared = 0;
    for template in [
        "tests/fixtures/check/cloudformation/stack.yaml",
        "tests/fixtures/check/cloudformation/deployment-stage.yaml",
        "tests/fixtures/check/cloudformation/shapes.yaml",
        "tests/fixtures/check/cdk.out/OrdersStack.template.json",
    ] {
        compared += hook_agrees_with_check(template).await;
    }
    assert!(compared >= 8, "{compared}");
}

/// Sends every stage `check` finds in `template` to the hook as a resource
/// request and asserts the same verdict; returns how many were compared.
/// (Also run over aws-sam-translator's and `sls package`'s output, in
/// `check_parity`.)
pub(crate) async fn hook_agrees_with_check(template: &str) -> usize {
    let mut compared = 0;
    let out = run_offline(&["check", "--format", "json", template]).await;
    let checked: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(template).unwrap();
    let doc = apigw_tracing::check::yaml::parse(&text).unwrap();
    let resources = doc.get("Resources").unwrap();
    for r in checked["results"].as_array().unwrap() {
        if r["rule"] != "stage-tracing" {
            continue;
        }
        let id = r["resource"].as_str().unwrap();
        let Some(res) = resources.get(id) else {
            continue;
        };
        let kind = res.get("Type").and_then(|t| t.as_str()).unwrap();
        // At deploy time CloudFormation has resolved every intrinsic (a
        // parameter to its value: here its default); what check cannot
        // know before deploy is not compared.
        if r["status"] == "UNKNOWN" {
            continue;
        }
        let props = to_json(res.get("Properties").unwrap(), doc.get("Parameters"));
        let event = request("t", kind, id, props);
        let d = apigw_tracing::hook::decide(
            &apigw_tracing::hook::HookRequest::parse(event).unwrap(),
            chrono::Utc::now().date_naive(),
        );
        assert_eq!(d.verdict, r["status"], "{template} {id}: {r}");
        compared += 1;
    }
    compared
}

/// A binary of the gate package (`apigw-tracing-check`, and the hook's
/// `apigw-tracing-hook` with its feature), beside this package's: `make
/// it` builds both.
pub(crate) fn sibling_bin(name: &str) -> String {
    let here = std::path::Path::new(env!("CARGO_BIN_EXE_apigw-tracing"));
    let bin = here.with_file_name(name);
    assert!(
        bin.is_file(),
        "{} is not built: cargo build -p apigw-tracing-check --features hook-lambda --bins (make it does)",
        bin.display()
    );
    bin.to_string_lossy().into_owned()
}

/// The hook's binary.
pub(crate) fn hook_bin() -> String {
    sibling_bin("apigw-tracing-hook")
}
