//! The promises the shipped policy files make, probed under every engine
//! users run them with, with `check` as the truth: the Guard file by AWS's
//! Guard engine (cfn-guard) on templates and on both hook input shapes;
//! the Conftest policy by OPA's Go engine (what Conftest embeds) and by
//! regorus. Probes: non-exempt tags, exemption dates (impossible ones
//! included), values known after apply, same-named resources in two
//! modules, deployments, awscc stages without a name.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::policy::{checked, guard_doc, rego, GUARD, REGO};

fn scratch(name: &str, doc: &Value) -> String {
    let dir = std::env::temp_dir().join(format!("apigw-probes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn tags(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// (probe, resource type, properties) for CloudFormation.
fn cfn_probes() -> Vec<(&'static str, &'static str, Value)> {
    let stage = "AWS::ApiGateway::Stage";
    let deployment = "AWS::ApiGateway::Deployment";
    let exempt = "apigw-tracing:exempt";
    let until = "apigw-tracing:exempt-until";
    vec![
        (
            "traced",
            stage,
            json!({"StageName": "s", "TracingEnabled": true}),
        ),
        (
            "traced as a string",
            stage,
            json!({"StageName": "s", "TracingEnabled": "true"}),
        ),
        ("off, no tags", stage, json!({"StageName": "s"})),
        (
            "off, false",
            stage,
            json!({"StageName": "s", "TracingEnabled": false}),
        ),
        (
            "off, an ordinary tag",
            stage,
            json!({"StageName": "s", "Tags": tags(&[("team", "payments")])}),
        ),
        (
            "off, Tags: []",
            stage,
            json!({"StageName": "s", "Tags": []}),
        ),
        (
            "off, only an end date",
            stage,
            json!({"StageName": "s", "Tags": tags(&[(until, "2099-12-31")])}),
        ),
        (
            "off, an empty reason",
            stage,
            json!({"StageName": "s", "Tags": tags(&[(exempt, " ")])}),
        ),
        (
            "exempt",
            stage,
            json!({"StageName": "s", "Tags": tags(&[("team", "t"), (exempt, "vendor proxy")])}),
        ),
        (
            "exempt until 2099-12-31",
            stage,
            json!({"StageName": "s", "Tags": tags(&[(exempt, "r"), (until, "2099-12-31")])}),
        ),
        (
            "exempt until 2099-02-31 (no such day)",
            stage,
            json!({"StageName": "s", "Tags": tags(&[(exempt, "r"), (until, "2099-02-31")])}),
        ),
        (
            "exempt until 2100-02-29 (no leap year)",
            stage,
            json!({"StageName": "s", "Tags": tags(&[(exempt, "r"), (until, "2100-02-29")])}),
        ),
        (
            "exempt until 2096-02-29 (leap year)",
            stage,
            json!({"StageName": "s", "Tags": tags(&[(exempt, "r"), (until, "2096-02-29")])}),
        ),
        (
            "exempt until a past day",
            stage,
            json!({"StageName": "s", "Tags": tags(&[(exempt, "r"), (until, "2020-01-01")])}),
        ),
        (
            "deployment off, tagged",
            deployment,
            json!({"RestApiId": "a", "StageName": "v1", "StageDescription": {"TracingEnabled": false, "Tags": tags(&[("team", "t")])}}),
        ),
        (
            "deployment traced",
            deployment,
            json!({"RestApiId": "a", "StageName": "v1", "StageDescription": {"TracingEnabled": true}}),
        ),
        (
            "deployment exempt",
            deployment,
            json!({"RestApiId": "a", "StageName": "v1", "StageDescription": {"Tags": tags(&[(exempt, "legacy")])}}),
        ),
        (
            "deployment without a stage",
            deployment,
            json!({"RestApiId": "a"}),
        ),
    ]
}

#[tokio::test]
async fn the_guard_file_agrees_with_check_on_every_probe_and_every_input_shape() {
    let mut agreed = 0;
    for (i, (probe, kind, props)) in cfn_probes().into_iter().enumerate() {
        let template = json!({"Resources": {"R": {"Type": kind, "Properties": props}}});
        let file = scratch(&format!("cfn-{i}.json"), &template);
        let truth = match checked(&file).await.get("R").map(|(s, _)| s.as_str()) {
            Some("FAILED") => "FAIL",
            Some("PASSED" | "EXEMPT") => "PASS",
            None => "SKIP",
            other => panic!("{probe}: check says {other:?}"),
        };
        let shapes = [
            ("template", template.clone()),
            (
                "Guard hook",
                json!({"Resources": {"R": {"ResourceType": kind, "ResourceProperties": props}}}),
            ),
            (
                "Control Tower hook",
                json!({kind: {"resourceProperties": props}}),
            ),
        ];
        for (shape, doc) in shapes {
            let got = guard_doc(&doc);
            // A gate fails or lets through: SKIP (no rule applied) and PASS
            // both let through.
            assert_eq!(
                got == "FAIL",
                truth == "FAIL",
                "{probe}, {shape}: cfn-guard says {got}, check says {truth}"
            );
            agreed += 1;
        }
    }
    eprintln!("cfn-guard agrees with check on {agreed} probe-shape pairs");
    // An untransformed SAM template never passes, whatever its stages say.
    for api in [
        json!({"StageName": "v1", "TracingEnabled": true, "OpenApiVersion": "3.0.1"}),
        json!({"StageName": "v1"}),
    ] {
        let sam = json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Api": {"Type": "AWS::Serverless::Api", "Properties": api}}});
        assert_eq!(guard_doc(&sam), "FAIL", "{sam}");
        let listed = json!({"Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"], "Resources": {}});
        assert_eq!(guard_doc(&listed), "FAIL");
    }
    let _ = GUARD;
}

fn change(address: &str, kind: &str, after: Value, unknown: Value) -> Value {
    let module = address
        .rsplit_once(&format!(".{kind}."))
        .map(|(m, _)| m.to_owned());
    let name = address.rsplit('.').next().unwrap();
    let mut rc = json!({
        "address": address,
        "type": kind,
        "name": name,
        "mode": "managed",
        "change": {"actions": ["create"], "after": after, "after_unknown": unknown},
    });
    if let Some(m) = module {
        rc["module_address"] = json!(m);
    }
    rc
}

fn plan(changes: Vec<Value>, configuration: Value) -> Value {
    json!({
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": changes,
        "configuration": configuration,
    })
}

/// Plans probing the Conftest policy; each stage's verdict comes from check.
fn plan_probes() -> Vec<(&'static str, Value)> {
    let s = "aws_api_gateway_stage";
    let exempt = "apigw-tracing:exempt";
    let until = "apigw-tracing:exempt-until";
    vec![
        (
            "aws stages",
            plan(
                vec![
                    change(
                        "aws_api_gateway_stage.off",
                        s,
                        json!({"stage_name": "a", "xray_tracing_enabled": false}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_stage.unset",
                        s,
                        json!({"stage_name": "b", "xray_tracing_enabled": null}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_stage.on",
                        s,
                        json!({"stage_name": "c", "xray_tracing_enabled": true}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_stage.later",
                        s,
                        json!({"stage_name": "d"}),
                        json!({"xray_tracing_enabled": true}),
                    ),
                    change(
                        "aws_api_gateway_stage.noname",
                        s,
                        json!({}),
                        json!({"stage_name": true}),
                    ),
                ],
                json!({}),
            ),
        ),
        (
            "tags and exemptions",
            plan(
                vec![
                    change(
                        "aws_api_gateway_stage.team",
                        s,
                        json!({"stage_name": "a", "tags": {"team": "t"}}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_stage.exempt",
                        s,
                        json!({"stage_name": "b", "tags": {exempt: "vendor"}}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_stage.default_tags",
                        s,
                        json!({"stage_name": "c", "tags": null, "tags_all": {exempt: "from default_tags"}}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_stage.no_such_day",
                        s,
                        json!({"stage_name": "d", "tags": {exempt: "r", until: "2099-02-31"}}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_stage.leap_day",
                        s,
                        json!({"stage_name": "e", "tags": {exempt: "r", until: "2096-02-29"}}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_stage.past",
                        s,
                        json!({"stage_name": "f", "tags": {exempt: "r", until: "2020-01-01"}}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_stage.only_until",
                        s,
                        json!({"stage_name": "g", "tags": {until: "2099-12-31"}}),
                        json!({}),
                    ),
                ],
                json!({}),
            ),
        ),
        (
            "deployments",
            plan(
                vec![
                    change(
                        "aws_api_gateway_deployment.named",
                        "aws_api_gateway_deployment",
                        json!({"stage_name": "v1"}),
                        json!({}),
                    ),
                    change(
                        "aws_api_gateway_deployment.later",
                        "aws_api_gateway_deployment",
                        json!({}),
                        json!({"stage_name": true}),
                    ),
                    change(
                        "aws_api_gateway_deployment.none",
                        "aws_api_gateway_deployment",
                        json!({"stage_name": null}),
                        json!({}),
                    ),
                ],
                json!({}),
            ),
        ),
        (
            "awscc, and same names in two modules",
            plan(
                vec![
                    change(
                        "awscc_apigateway_stage.off_unnamed",
                        "awscc_apigateway_stage",
                        json!({"tracing_enabled": false}),
                        json!({}),
                    ),
                    change(
                        "awscc_apigateway_stage.neither",
                        "awscc_apigateway_stage",
                        json!({}),
                        json!({}),
                    ),
                    change(
                        "module.a.awscc_apigateway_stage.s",
                        "awscc_apigateway_stage",
                        json!({"stage_name": "x"}),
                        json!({"tracing_enabled": true}),
                    ),
                    change(
                        "module.b[\"k\"].awscc_apigateway_stage.s",
                        "awscc_apigateway_stage",
                        json!({"stage_name": "x"}),
                        json!({"tracing_enabled": true}),
                    ),
                    change(
                        "module.b[\"k\"].aws_api_gateway_stage.off",
                        s,
                        json!({"stage_name": "y"}),
                        json!({}),
                    ),
                ],
                json!({"root_module": {"module_calls": {
                    "a": {"module": {"resources": [{"address": "awscc_apigateway_stage.s", "mode": "managed", "type": "awscc_apigateway_stage", "name": "s", "expressions": {"tracing_enabled": {"references": ["var.tracing"]}}}]}},
                    "b": {"module": {"resources": [{"address": "awscc_apigateway_stage.s", "mode": "managed", "type": "awscc_apigateway_stage", "name": "s", "expressions": {"stage_name": {"constant_value": "x"}}}]}}
                }}}),
            ),
        ),
    ]
}

/// OPA's Go engine on each plan: deny, warn and exempted, as Conftest runs
/// `data.main`.
fn opa(plans: &[Value]) -> Vec<BTreeMap<String, Vec<String>>> {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(["tests/policy/opa_main.py", REGO])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(plans).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "OPA (run `make it` to install it into .opa/): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn verdict(sets: &BTreeMap<String, Vec<String>>, address: &str) -> &'static str {
    let says = |rule: &str| {
        sets.get(rule).is_some_and(|v| {
            v.iter()
                .any(|m| m == address || m.starts_with(&format!("{address}: ")))
        })
    };
    match (says("deny"), says("warn"), says("exempted")) {
        (true, false, false) => "FAILED",
        (false, true, false) => "UNKNOWN",
        (false, false, true) => "EXEMPT",
        (false, false, false) => "PASSED",
        other => panic!("{address}: {other:?} {sets:?}"),
    }
}

#[tokio::test]
async fn the_conftest_policy_agrees_with_check_under_opa_and_regorus() {
    let probes = plan_probes();
    let mut plans: Vec<Value> = probes.iter().map(|(_, p)| p.clone()).collect();
    // The fixture plans too.
    let fixtures = [
        "tests/fixtures/check/terraform/plan.json",
        "tests/fixtures/policy/terraform-vars.plan.json",
        "tests/fixtures/policy/shapes.plan.json",
    ];
    for f in fixtures {
        plans.push(serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap());
    }
    let under_opa = opa(&plans);
    let mut compared = BTreeMap::new();
    for (i, doc) in plans.iter().enumerate() {
        let name = probes
            .get(i)
            .map_or_else(|| fixtures[i - probes.len()], |(n, _)| *n);
        let file = scratch(&format!("plan-{i}.json"), doc);
        let truth = checked(&file).await;
        assert!(!truth.is_empty(), "{name}: check found no stage");
        let regorus: BTreeMap<String, Vec<String>> = rego(REGO, "main", &doc.to_string())
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        for (engine, sets) in [("OPA", &under_opa[i]), ("regorus", &regorus)] {
            for (address, (status, _)) in &truth {
                let got = verdict(sets, address);
                assert_eq!(
                    got, status,
                    "{name}: {address}: {engine} says {got}, check says {status}: {sets:?}"
                );
                *compared.entry((engine, status.clone())).or_insert(0) += 1;
            }
            // Nothing denied that check does not fail.
            let failed = truth.values().filter(|(s, _)| s == "FAILED").count();
            assert_eq!(sets["deny"].len(), failed, "{name}: {engine}: {sets:?}");
        }
    }
    eprintln!("OPA and regorus against check: {compared:?}");
    for engine in ["OPA", "regorus"] {
        for status in ["FAILED", "PASSED", "EXEMPT", "UNKNOWN"] {
            assert!(
                compared
                    .get(&(engine, status.to_owned()))
                    .copied()
                    .unwrap_or(0)
                    >= 2,
                "{engine} {status}: {compared:?}"
            );
        }
    }
}
