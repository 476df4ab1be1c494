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

/// `check --format json FILE`: resource -> status.
async fn checked(file: &str) -> BTreeMap<String, (String, String)> {
    let out = crate::harness::run_offline(&["check", "--format", "json", file]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
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
        for (engine, sets) in [("OPA", &under_opa[i])] {
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
    eprintln!("OPA against check: {compared:?}");
    for engine in ["OPA"] {
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
