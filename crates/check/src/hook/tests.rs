use super::*;
use apigw_tracing_rule::testing::today;

fn request(kind: &str, props: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "clientRequestToken": "token-1",
        "awsAccountId": "111122223333",
        "stackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/orders/x",
        "hookTypeName": "ApigwTracing::Hooks::StageTracing",
        "hookTypeVersion": "00000001",
        "hookModel": {"LambdaFunction": "arn:aws:lambda:eu-west-1:111122223333:function:hook"},
        "actionInvocationPoint": "CREATE_PRE_PROVISION",
        "requestData": {
            "targetName": kind,
            "targetType": "RESOURCE",
            "targetLogicalId": "ProdStage",
            "targetModel": {"resourceProperties": props}
        },
        "requestContext": {"invocation": 1, "callbackContext": null}
    })
}

fn decided(kind: &str, props: serde_json::Value) -> Decision {
    decide(&HookRequest::parse(request(kind, props)).unwrap(), today())
}

#[test]
fn stages_pass_with_tracing_and_fail_without_naming_the_fix() {
    let on = decided(
        "AWS::ApiGateway::Stage",
        serde_json::json!({"StageName": "prod", "TracingEnabled": "true", "RestApiId": "a1"}),
    );
    assert_eq!(
        (on.response.hook_status, on.verdict),
        (HookStatus::Success, "PASSED")
    );
    assert_eq!(on.response.error_code, None);
    assert_eq!(on.response.client_request_token, "token-1");
    let off = decided(
        "AWS::ApiGateway::Stage",
        serde_json::json!({"StageName": "prod", "TracingEnabled": "false"}),
    );
    assert_eq!(off.response.hook_status, HookStatus::Failed);
    assert_eq!(off.response.error_code, Some(ErrorCode::NonCompliant));
    let m = &off.response.message;
    assert!(
        m.contains("ProdStage") && m.contains("\"prod\"") && m.contains("TracingEnabled: true"),
        "{m}"
    );
    let unset = decided(
        "AWS::ApiGateway::Stage",
        serde_json::json!({"StageName": "dev"}),
    );
    assert_eq!(unset.verdict, "FAILED");
}

#[test]
fn deployments_with_a_stage_name_are_judged_and_without_one_skipped() {
    let d = decided(
        "AWS::ApiGateway::Deployment",
        serde_json::json!({"RestApiId": "a1", "StageName": "v1", "StageDescription": {"TracingEnabled": "true"}}),
    );
    assert_eq!((d.verdict, d.stage.as_deref()), ("PASSED", Some("v1")));
    let d = decided(
        "AWS::ApiGateway::Deployment",
        serde_json::json!({"RestApiId": "a1", "StageName": "Stage"}),
    );
    assert_eq!(d.verdict, "FAILED");
    assert!(
        d.response
            .message
            .contains("StageDescription.TracingEnabled"),
        "{}",
        d.response.message
    );
    let d = decided(
        "AWS::ApiGateway::Deployment",
        serde_json::json!({"RestApiId": "a1"}),
    );
    assert_eq!(
        (d.response.hook_status, d.verdict),
        (HookStatus::Success, "SKIPPED")
    );
}

#[test]
fn exemptions_hold_and_a_malformed_one_fails_saying_why() {
    let tags = |t: serde_json::Value| {
        decided(
            "AWS::ApiGateway::Stage",
            serde_json::json!({"StageName": "legacy", "Tags": t}),
        )
    };
    let e = tags(serde_json::json!([{"Key": "apigw-tracing:exempt", "Value": "vendor proxy"}]));
    assert_eq!(
        (e.response.hook_status, e.verdict),
        (HookStatus::Success, "EXEMPT")
    );
    assert!(e.response.message.contains("vendor proxy"));
    let bad = tags(serde_json::json!([
        {"Key": "apigw-tracing:exempt", "Value": "r"},
        {"Key": "apigw-tracing:exempt-until", "Value": "next week"}
    ]));
    assert_eq!(bad.verdict, "FAILED");
    assert!(
        bad.response.message.contains("exempt-until"),
        "{}",
        bad.response.message
    );
}

#[test]
fn other_types_deletes_and_stack_operations_are_not_ours() {
    assert_eq!(
        decided("AWS::S3::Bucket", serde_json::json!({})).verdict,
        "SKIPPED"
    );
    let mut delete = request(
        "AWS::ApiGateway::Stage",
        serde_json::json!({"StageName": "x"}),
    );
    delete["actionInvocationPoint"] = "DELETE_PRE_PROVISION".into();
    let d = decide(&HookRequest::parse(delete).unwrap(), today());
    assert_eq!(
        (d.response.hook_status, d.verdict),
        (HookStatus::Success, "SKIPPED")
    );
}

#[test]
fn a_request_that_does_not_parse_is_refused_never_passed() {
    for broken in [
        serde_json::json!({}),
        serde_json::json!({"clientRequestToken": "t"}),
        serde_json::json!("text"),
        {
            let mut r = request("AWS::ApiGateway::Stage", serde_json::json!({}));
            r["actionInvocationPoint"] = "SOMETIME".into();
            r
        },
        {
            let mut r = request("AWS::ApiGateway::Stage", serde_json::json!({}));
            r["clientRequestToken"] = "".into();
            r
        },
    ] {
        assert!(
            handle(HookEvent(Ok(broken.clone())), today()).is_err(),
            "{broken}"
        );
    }
}

#[test]
fn nothing_unread_or_oddly_named_passes() {
    // No properties at all: refused for every judged type.
    for kind in TARGETS {
        for model in [
            None,
            Some(serde_json::json!({})),
            Some(serde_json::json!({"resourceProperties": null})),
        ] {
            let mut r = request(kind, serde_json::json!({}));
            match &model {
                None => {
                    r["requestData"]
                        .as_object_mut()
                        .unwrap()
                        .remove("targetModel");
                }
                Some(m) => r["requestData"]["targetModel"] = m.clone(),
            }
            let d = decide(&HookRequest::parse(r).unwrap(), today());
            assert_eq!(
                d.response.hook_status,
                HookStatus::Failed,
                "{kind} {model:?}"
            );
        }
    }
    let off = serde_json::json!({"StageName": "p", "TracingEnabled": false});
    // Target types other than RESOURCE are refused, never skipped.
    for target_type in ["", "STACK", "CHANGE_SET", "other"] {
        let mut r = request("AWS::ApiGateway::Stage", off.clone());
        r["requestData"]["targetType"] = target_type.into();
        let d = decide(&HookRequest::parse(r).unwrap(), today());
        assert_eq!(
            d.response.hook_status,
            HookStatus::Failed,
            "{target_type:?}"
        );
    }
    // A judged type however spelled, and a loop-like logical id, are judged.
    for (name, id) in [
        ("aws::apigateway::stage", "ProdStage"),
        (" AWS::ApiGateway::Stage ", "ProdStage"),
        ("AWS::ApiGateway::Stage", "Fn::ForEach::Stages"),
    ] {
        let mut r = request(name, off.clone());
        r["requestData"]["targetType"] = "resource".into();
        r["requestData"]["targetLogicalId"] = id.into();
        let d = decide(&HookRequest::parse(r).unwrap(), today());
        assert_eq!(
            (d.response.hook_status, d.verdict),
            (HookStatus::Failed, "FAILED"),
            "{name:?} {id}"
        );
    }
}

#[test]
fn a_duplicated_key_is_an_invalid_event_with_a_short_message() {
    let body = request(
        "AWS::ApiGateway::Stage",
        serde_json::json!({"StageName": "p"}),
    )
    .to_string()
    .replace(
        "\"StageName\":\"p\"",
        "\"StageName\":\"p\",\"TracingEnabled\":\"false\",\"TracingEnabled\":\"true\"",
    );
    // As lambda_runtime 1.5 reads a body (no check of what follows).
    let jd = &mut serde_json::Deserializer::from_str(&body);
    let event: HookEvent = serde_path_to_error::deserialize(jd).unwrap();
    let e = handle(event, today()).unwrap_err();
    assert_eq!(InvalidRequest::ERROR_TYPE, "InvalidEvent");
    let message = e.to_string();
    assert!(message.contains("duplicate key"), "{message}");
    assert!(message.len() < 300);
}

#[test]
fn the_response_has_the_guides_field_names() {
    let d = decided(
        "AWS::ApiGateway::Stage",
        serde_json::json!({"StageName": "p"}),
    );
    let v = serde_json::to_value(&d.response).unwrap();
    assert_eq!(v["hookStatus"], "FAILED");
    assert_eq!(v["errorCode"], "NonCompliant");
    assert_eq!(v["clientRequestToken"], "token-1");
    assert!(v["message"].is_string());
    let ok = decided(
        "AWS::ApiGateway::Stage",
        serde_json::json!({"StageName": "p", "TracingEnabled": true}),
    );
    let v = serde_json::to_value(&ok.response).unwrap();
    assert_eq!(v["hookStatus"], "SUCCESS");
    assert!(v.get("errorCode").is_none());
}

#[test]
fn a_sampling_rule_that_records_nothing_of_every_stage_it_takes_is_refused() {
    let rule = |reservoir: serde_json::Value, extra: serde_json::Value| {
        let mut r = serde_json::json!({
            "RuleName": "quiet", "Priority": "10", "ReservoirSize": reservoir, "FixedRate": "0",
            "ServiceName": "orders/*", "ServiceType": "*", "ResourceARN": "*",
            "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": "1"
        });
        for (k, v) in extra.as_object().unwrap() {
            r[k] = v.clone();
        }
        serde_json::json!({ "SamplingRule": r })
    };
    let kind = "AWS::XRay::SamplingRule";
    let silent = decided(kind, rule("0".into(), serde_json::json!({})));
    assert_eq!(
        (silent.response.hook_status, silent.verdict),
        (HookStatus::Failed, "FAILED")
    );
    assert_eq!(silent.response.error_code, Some(ErrorCode::NonCompliant));
    assert!(
        silent.response.message.contains("'quiet'")
            || silent.response.message.contains("\"quiet\"")
    );
    for (what, extra, reservoir, want) in [
        ("records", serde_json::json!({}), "1", "PASSED"),
        (
            "a /health exclusion",
            serde_json::json!({"URLPath": "/health"}),
            "0",
            "PASSED",
        ),
        (
            "Lambda only",
            serde_json::json!({"ServiceType": "AWS::Lambda::Function"}),
            "0",
            "PASSED",
        ),
        (
            "with attributes",
            serde_json::json!({"Attributes": {"k": "v"}}),
            "0",
            "PASSED",
        ),
        (
            "a boost",
            serde_json::json!({"SamplingRateBoost": {"MaxRate": "0.2", "CooldownWindowMinutes": "1"}}),
            "0",
            "PASSED",
        ),
    ] {
        let d = decided(kind, rule(reservoir.into(), extra));
        assert_eq!(d.verdict, want, "{what}: {}", d.response.message);
        assert_eq!(d.response.hook_status, HookStatus::Success, "{what}");
    }
    let mut exempt = rule("0".into(), serde_json::json!({}));
    exempt["Tags"] =
        serde_json::json!([{"Key": "apigw-tracing:exempt", "Value": "synthetic canary"}]);
    let d = decided(kind, exempt);
    assert_eq!(
        (d.response.hook_status, d.verdict),
        (HookStatus::Success, "EXEMPT")
    );
    assert!(d.response.message.contains("synthetic canary"));
    // A computed rate (an unresolved intrinsic) is refused, not guessed.
    let computed = decided(
        kind,
        rule(
            "0".into(),
            serde_json::json!({"FixedRate": {"Ref": "Rate"}}),
        ),
    );
    assert_eq!(
        (computed.response.hook_status, computed.verdict),
        (HookStatus::Failed, "UNKNOWN")
    );
}
