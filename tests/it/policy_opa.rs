//! The Conftest policy's promises under OPA's Go engine (v1.20, what
//! Conftest embeds; it comes as a Python wheel, so it runs here in `make
//! it`), with `check` as the truth, on the probes the gate's specs run
//! under cfn-guard and regorus (crates/check/tests/spec/probes.rs).

use std::collections::BTreeMap;

use serde_json::Value;

#[path = "../../crates/check/tests/spec/probe_cases.rs"]
#[allow(dead_code)]
mod probe_cases;
use probe_cases::*;

const REGO: &str = "policy/conftest/apigw_tracing.rego";

/// `check --format json FILE`: resource -> (status, message).
async fn checked(file: &str) -> Truth {
    truth(
        &crate::harness::run_offline(&["check", "--format", "json", file])
            .await
            .stdout,
    )
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

#[tokio::test]
async fn the_conftest_policy_agrees_with_check_under_opa() {
    let plans = rego_plans(std::path::Path::new("."));
    let docs: Vec<Value> = plans.iter().map(|(_, p)| p.clone()).collect();
    let under_opa = opa(&docs);
    let mut compared = BTreeMap::new();
    for (i, (name, doc)) in plans.iter().enumerate() {
        let truth = checked(&scratch(&format!("opa-plan-{i}.json"), doc)).await;
        agree("OPA", name, &truth, &under_opa[i], &mut compared);
    }
    covered("OPA", &compared);
}

#[tokio::test]
async fn the_conftest_policy_judges_sampling_rules_under_opa() {
    let (plan, expected) = sampling_plan();
    let sets = opa(&[plan]).remove(0);
    for (address, want) in &expected {
        assert_eq!(verdict(&sets, address), *want, "{address}: {sets:?}");
    }
    let failed = expected.iter().filter(|(_, w)| *w == "FAILED").count();
    assert_eq!(sets["deny"].len(), failed, "{sets:?}");
}
