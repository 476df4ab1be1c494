//! The probes of the shipped policy files' promises: CloudFormation
//! resources (each judged in three input shapes) and Terraform plans, and
//! how a Rego result reads as a verdict. Shared by the gate's specs
//! (cfn-guard, regorus) and the runtime's OPA test.

use std::collections::BTreeMap;

use serde_json::{json, Value};

pub fn scratch(name: &str, doc: &Value) -> String {
    let dir = std::env::temp_dir().join(format!("apigw-probes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

pub fn tags(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// (probe, resource type, properties) for CloudFormation.
pub fn cfn_probes() -> Vec<(&'static str, &'static str, Value)> {
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

pub fn change(address: &str, kind: &str, after: Value, unknown: Value) -> Value {
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

pub fn plan(changes: Vec<Value>, configuration: Value) -> Value {
    json!({
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": changes,
        "configuration": configuration,
    })
}

/// Plans probing the Conftest policy; each stage's verdict comes from check.
pub fn plan_probes() -> Vec<(&'static str, Value)> {
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

pub fn verdict(sets: &BTreeMap<String, Vec<String>>, address: &str) -> &'static str {
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

/// check's verdict for each stage of a plan: address -> (status, message).
pub type Truth = BTreeMap<String, (String, String)>;

/// The stage-rule results of `check --format json`'s output, as [`Truth`].
pub fn truth(json: &[u8]) -> Truth {
    let v: Value = serde_json::from_slice(json).expect("check --format json");
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "stage-tracing")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (s("resource"), (s("status"), s("message")))
        })
        .collect()
}

/// The probe plans, then the fixture plans, each with its name (fixtures
/// read from the repository root `root`).
pub fn rego_plans(root: &std::path::Path) -> Vec<(String, Value)> {
    let mut plans: Vec<(String, Value)> = plan_probes()
        .into_iter()
        .map(|(n, p)| (n.to_owned(), p))
        .collect();
    for f in [
        "tests/fixtures/check/terraform/plan.json",
        "tests/fixtures/policy/terraform-vars.plan.json",
        "tests/fixtures/policy/shapes.plan.json",
    ] {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        plans.push((f.to_owned(), serde_json::from_str(&text).unwrap()));
    }
    plans
}

/// Asserts that an engine's `deny` / `warn` / `exempted` on plan `name`
/// give check's verdict for every stage, and deny nothing check does not
/// fail; counts each verdict compared.
pub fn agree(
    engine: &str,
    name: &str,
    truth: &Truth,
    sets: &BTreeMap<String, Vec<String>>,
    compared: &mut BTreeMap<String, usize>,
) {
    assert!(!truth.is_empty(), "{name}: check found no stage");
    for (address, (status, _)) in truth {
        let got = verdict(sets, address);
        assert_eq!(
            got, status,
            "{name}: {address}: {engine} says {got}, check says {status}: {sets:?}"
        );
        *compared.entry(status.clone()).or_insert(0) += 1;
    }
    let failed = truth.values().filter(|(s, _)| s == "FAILED").count();
    assert_eq!(sets["deny"].len(), failed, "{name}: {engine}: {sets:?}");
}

/// Every verdict was compared at least twice.
pub fn covered(engine: &str, compared: &BTreeMap<String, usize>) {
    eprintln!("{engine} against check: {compared:?}");
    for status in ["FAILED", "PASSED", "EXEMPT", "UNKNOWN"] {
        let n = compared.get(status).copied().unwrap_or(0);
        assert!(n >= 2, "{engine} {status}: {compared:?}");
    }
}

/// One probe of the deploy-time sampling-rule rule: its CloudFormation
/// properties, its Terraform plan `after` and `after_unknown`, and the
/// verdict every engine must give.
pub struct SamplingProbe {
    pub name: &'static str,
    pub cfn: Value,
    pub after: Value,
    pub unknown: Value,
    pub expected: &'static str,
}

/// (name, overrides of a silent catch-all, tags, fields known only at
/// deploy, verdict).
type Case = (
    &'static str,
    Value,
    Vec<(&'static str, &'static str)>,
    Vec<&'static str>,
    &'static str,
);

/// The sampling-rule probes: silent catch-alls, what makes a rule pass,
/// exemptions and values known only at deploy.
pub fn sampling_probes() -> Vec<SamplingProbe> {
    let exempt = "apigw-tracing:exempt";
    let until = "apigw-tracing:exempt-until";
    // (name, overrides of a silent catch-all, tags, unknown fields, verdict)
    let cases: Vec<Case> = vec![
        ("silent, every service", json!({}), vec![], vec![], "FAILED"),
        (
            "silent, stages only",
            json!({"ServiceType": "AWS::ApiGateway::Stage", "ServiceName": "orders/*"}),
            vec![],
            vec![],
            "FAILED",
        ),
        (
            "silent, every API Gateway type",
            json!({"ServiceType": "AWS::ApiGateway::*"}),
            vec![],
            vec![],
            "FAILED",
        ),
        (
            "silent, Host **",
            json!({"Host": "**"}),
            vec![],
            vec![],
            "FAILED",
        ),
        (
            "records a reservoir",
            json!({"ReservoirSize": 1}),
            vec![],
            vec![],
            "PASSED",
        ),
        (
            "records a rate",
            json!({"FixedRate": 0.05}),
            vec![],
            vec![],
            "PASSED",
        ),
        (
            "a /health exclusion",
            json!({"URLPath": "/health"}),
            vec![],
            vec![],
            "PASSED",
        ),
        (
            "Lambda only",
            json!({"ServiceType": "AWS::Lambda::Function"}),
            vec![],
            vec![],
            "PASSED",
        ),
        (
            "with attributes",
            json!({"Attributes": {"tenant": "a"}}),
            vec![],
            vec![],
            "PASSED",
        ),
        (
            "a boost",
            json!({"SamplingRateBoost": {"MaxRate": 0.2, "CooldownWindowMinutes": 1}}),
            vec![],
            vec![],
            "PASSED",
        ),
        (
            "an ordinary tag",
            json!({}),
            vec![("team", "obs")],
            vec![],
            "FAILED",
        ),
        (
            "exempt",
            json!({}),
            vec![(exempt, "synthetic canary")],
            vec![],
            "EXEMPT",
        ),
        (
            "exempt, empty reason",
            json!({}),
            vec![(exempt, " ")],
            vec![],
            "FAILED",
        ),
        (
            "exempt until a past day",
            json!({}),
            vec![(exempt, "r"), (until, "2020-01-01")],
            vec![],
            "FAILED",
        ),
        (
            "exempt until 2099-12-31",
            json!({}),
            vec![(exempt, "r"), (until, "2099-12-31")],
            vec![],
            "EXEMPT",
        ),
        (
            "rate known at deploy",
            json!({}),
            vec![],
            vec!["FixedRate"],
            "UNKNOWN",
        ),
        (
            "rate known at deploy, reservoir 1",
            json!({"ReservoirSize": 1}),
            vec![],
            vec!["FixedRate"],
            "PASSED",
        ),
    ];
    let tf = |k: &str| -> &'static str {
        match k {
            "RuleName" => "rule_name",
            "Priority" => "priority",
            "ReservoirSize" => "reservoir_size",
            "FixedRate" => "fixed_rate",
            "ServiceName" => "service_name",
            "ServiceType" => "service_type",
            "ResourceARN" => "resource_arn",
            "Host" => "host",
            "HTTPMethod" => "http_method",
            "URLPath" => "url_path",
            "Version" => "version",
            "Attributes" => "attributes",
            "SamplingRateBoost" => "sampling_rate_boost",
            other => panic!("{other}"),
        }
    };
    cases
        .into_iter()
        .map(|(name, overrides, tag_pairs, unknown, expected)| {
            let mut rule = json!({
                "RuleName": "quiet", "Priority": 10, "ReservoirSize": 0, "FixedRate": 0,
                "ServiceName": "*", "ServiceType": "*", "ResourceARN": "*",
                "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": 1
            });
            for (k, v) in overrides.as_object().unwrap() {
                rule[k] = v.clone();
            }
            let mut after = json!({"attributes": null, "sampling_rate_boost": [], "tags": null});
            let mut after_unknown = json!({});
            for (k, v) in rule.as_object().unwrap() {
                after[tf(k)] = match k.as_str() {
                    "SamplingRateBoost" => {
                        json!([{"max_rate": v["MaxRate"], "cooldown_window_minutes": 1}])
                    }
                    _ => v.clone(),
                };
            }
            for k in &unknown {
                rule[*k] = json!({"Ref": "Computed"});
                after.as_object_mut().unwrap().remove(tf(k));
                after_unknown[tf(k)] = json!(true);
            }
            let mut cfn = json!({ "SamplingRule": rule });
            if !tag_pairs.is_empty() {
                cfn["Tags"] = tags(&tag_pairs);
                after["tags"] = tag_pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), json!(v)))
                    .collect::<serde_json::Map<String, Value>>()
                    .into();
            }
            SamplingProbe {
                name,
                cfn,
                after,
                unknown: after_unknown,
                expected,
            }
        })
        .collect()
}

/// The sampling probes as one plan: each rule at the root, the first also
/// inside a module instance (`module.obs["eu"]`); address -> verdict.
pub fn sampling_plan() -> (Value, Vec<(String, &'static str)>) {
    let kind = "aws_xray_sampling_rule";
    let mut changes = Vec::new();
    let mut expected = Vec::new();
    for (i, p) in sampling_probes().into_iter().enumerate() {
        let address = format!("{kind}.probe_{i}");
        changes.push(change(&address, kind, p.after.clone(), p.unknown.clone()));
        expected.push((address, p.expected));
        if i == 0 {
            let address = format!("module.obs[\"eu\"].{kind}.probe_{i}");
            changes.push(change(&address, kind, p.after, p.unknown));
            expected.push((address, p.expected));
        }
    }
    (plan(changes, json!({})), expected)
}
