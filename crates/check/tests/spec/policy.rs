//! The rule in other engines' languages, run by those engines: the Guard
//! file by AWS's own Guard engine (the cfn-guard crate) over every Stage
//! and Deployment of `check`'s CloudFormation fixtures, and the Conftest
//! policy by a Rego engine (regorus) over plans; each must give the
//! verdicts `check` gives.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::tree_json::to_json;

pub(crate) const GUARD: &str = "policy/guard/apigw_tracing.guard";
pub(crate) const REGO: &str = "policy/conftest/apigw_tracing.rego";

/// `check --format json FILE`: resource -> (status, message).
pub(crate) fn checked(file: &str) -> crate::probe_cases::Truth {
    crate::probe_cases::truth(&crate::run(&["--format", "json", file]).stdout)
}

/// Guard's verdict on one resource: PASS, FAIL or SKIP (no rule applied).
fn guard(resource_id: &str, resource: Value) -> String {
    guard_doc(&json!({"Resources": {resource_id: resource}}))
}

/// Guard's verdict on a whole input document (a template or a hook's
/// input): PASS, FAIL or SKIP.
pub(crate) fn guard_doc(doc: &Value) -> String {
    let resource_id = "input";
    let rules = std::fs::read_to_string(crate::root().join(GUARD)).unwrap();
    let data = doc.to_string();
    let out = cfn_guard::run_checks(
        cfn_guard::ValidateInput {
            content: &data,
            file_name: "template.json",
        },
        cfn_guard::ValidateInput {
            content: &rules,
            file_name: "apigw_tracing.guard",
        },
        // The record tree: the non-verbose summary comes from a BufWriter's
        // unflushed buffer only (cfn-guard 3.2.1), cut past 8 KiB.
        true,
    )
    .unwrap_or_else(|e| panic!("cfn-guard on {resource_id}: {e}"));
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    // The file's status: FAIL if a rule failed, PASS if one passed, SKIP
    // if none applied.
    v["container"]["FileCheck"]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("no file status: {out}"))
        .to_owned()
}

#[test]
fn the_guard_rule_gives_the_verdicts_check_gives() {
    let mut compared = BTreeMap::new();
    for template in [
        "tests/fixtures/check/cloudformation/stack.yaml",
        "tests/fixtures/check/cloudformation/shapes.yaml",
        "tests/fixtures/check/cloudformation/deployment-stage.yaml",
        "tests/fixtures/check/cdk.out/OrdersStack.template.json",
    ] {
        let results = checked(template);
        let text = std::fs::read_to_string(crate::root().join(template)).unwrap();
        let doc = apigw_tracing_check::check::yaml::parse(&text).unwrap();
        for (id, res) in doc.get("Resources").unwrap().entries() {
            let kind = res.get("Type").and_then(|t| t.as_str()).unwrap_or_default();
            if !kind.starts_with("AWS::ApiGateway::") {
                continue;
            }
            let verdict = guard(id, to_json(res, None));
            let expected = match results.get(id.as_str()) {
                // A parameter is resolved only at deploy time (where a Guard
                // hook runs); here Guard sees the Ref, check the default.
                Some((_, message)) if message.contains("parameter") => continue,
                Some((status, _)) if status == "UNKNOWN" => continue,
                Some((status, _)) if status == "FAILED" => "FAIL",
                Some(_) => "PASS",
                None => "SKIP",
            };
            assert_eq!(
                verdict,
                expected,
                "{template} {id}: {:?}",
                results.get(id.as_str())
            );
            *compared.entry(expected).or_insert(0) += 1;
        }
    }
    eprintln!("Guard against check, verdicts compared: {compared:?}");
    // Each verdict, several times (SKIP: the other API Gateway resources).
    assert!(
        compared["FAIL"] >= 4 && compared["PASS"] >= 5 && compared["SKIP"] >= 2,
        "{compared:?}"
    );
}

/// The Conftest policy's sets on one plan: deny and warn messages, and
/// the exempted addresses.
pub(crate) fn rego(policy: &str, package: &str, plan: &str) -> BTreeMap<&'static str, Vec<String>> {
    rego_rules(policy, package, plan, &["deny", "warn", "exempted"])
}

fn rego_rules(
    policy: &str,
    package: &str,
    plan: &str,
    rules: &[&'static str],
) -> BTreeMap<&'static str, Vec<String>> {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy(
            policy.into(),
            std::fs::read_to_string(crate::root().join(policy)).unwrap(),
        )
        .unwrap();
    engine.set_input_json(plan).unwrap();
    let mut out = BTreeMap::new();
    for &rule in rules {
        let v = engine
            .eval_rule(format!("data.{package}.{rule}"))
            .map(|v| v.to_json_str().unwrap())
            .unwrap_or_else(|e| panic!("{policy}: data.{package}.{rule}: {e}"));
        let items: Vec<String> = serde_json::from_str::<Value>(&v)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect();
        out.insert(rule, items);
    }
    out
}

#[test]
fn the_conftest_policy_gives_the_verdicts_check_gives() {
    let mut seen = BTreeMap::new();
    for plan_file in [
        "tests/fixtures/check/terraform/plan.json",
        "tests/fixtures/policy/terraform-vars.plan.json",
        "tests/fixtures/policy/shapes.plan.json",
    ] {
        let results = checked(plan_file);
        let sets = rego(
            REGO,
            "main",
            &std::fs::read_to_string(crate::root().join(plan_file)).unwrap(),
        );
        let says = |rule: &str, address: &str| {
            sets[rule]
                .iter()
                .any(|m| m == address || m.starts_with(&format!("{address}: ")))
        };
        for (address, (status, _)) in &results {
            let verdict = match (
                says("deny", address),
                says("warn", address),
                says("exempted", address),
            ) {
                (true, false, false) => "FAILED",
                (false, true, false) => "UNKNOWN",
                (false, false, true) => "EXEMPT",
                (false, false, false) => "PASSED",
                other => panic!("{plan_file} {address}: {other:?} {sets:?}"),
            };
            assert_eq!(verdict, status, "{plan_file} {address}: {sets:#?}");
            *seen.entry(verdict).or_insert(0) += 1;
        }
        // Nothing denied that check does not report.
        let denied = sets["deny"].len();
        let failed = results.values().filter(|(s, _)| s == "FAILED").count();
        assert_eq!(denied, failed, "{plan_file}: {sets:#?}");
        for m in &sets["deny"] {
            assert!(m.contains("fix: "), "{m}");
        }
    }
    assert!(
        seen["FAILED"] >= 10 && seen["PASSED"] >= 5 && seen["EXEMPT"] >= 4 && seen["UNKNOWN"] >= 2,
        "{seen:?}"
    );
}

/// The seed's one-line rule (`after.xray_tracing_enabled == false`) misses
/// a stage whose tracing is unset, which the plan shows as null: the most
/// common case. This policy denies it.
#[test]
fn the_one_line_rule_misses_an_unset_stage_that_this_policy_catches() {
    let seed = std::env::temp_dir().join(format!("seed-{}.rego", std::process::id()));
    std::fs::write(
        &seed,
        "package seed\n\nimport rego.v1\n\ndeny contains msg if {\n\tsome r in input.resource_changes\n\tr.type == \"aws_api_gateway_stage\"\n\tr.change.after.xray_tracing_enabled == false\n\tmsg := r.address\n}\n",
    )
    .unwrap();
    let plan =
        std::fs::read_to_string(crate::root().join("tests/fixtures/check/terraform/plan.json"))
            .unwrap();
    let theirs = rego_rules(seed.to_str().unwrap(), "seed", &plan, &["deny"]);
    let ours = rego(REGO, "main", &plan);
    let unset = "aws_api_gateway_stage.dev";
    assert!(!theirs["deny"].iter().any(|m| m == unset), "{theirs:?}");
    assert!(
        ours["deny"]
            .iter()
            .any(|m| m.starts_with(&format!("{unset}: "))),
        "{ours:?}"
    );
}
