//! The promises the shipped policy files make, probed with `check` as the
//! truth: the Guard file by AWS's Guard engine (cfn-guard) on templates and
//! on both hook input shapes; the Conftest policy by regorus. (OPA's Go
//! engine, which Conftest embeds, comes as a Python wheel: its run of the
//! same probes is in the runtime's `make it`, tests/it/policy_opa.rs.)

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::policy::{checked, guard_doc, rego, GUARD, REGO};
use crate::probe_cases::*;

#[test]
fn the_guard_file_agrees_with_check_on_every_probe_and_every_input_shape() {
    let mut agreed = 0;
    for (i, (probe, kind, props)) in cfn_probes().into_iter().enumerate() {
        let template = json!({"Resources": {"R": {"Type": kind, "Properties": props}}});
        let file = scratch(&format!("cfn-{i}.json"), &template);
        let truth = match checked(&file).get("R").map(|(s, _)| s.as_str()) {
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

#[test]
fn the_conftest_policy_agrees_with_check_under_regorus() {
    let probes = plan_probes();
    let mut plans: Vec<Value> = probes.iter().map(|(_, p)| p.clone()).collect();
    // The fixture plans too.
    let fixtures = [
        "tests/fixtures/check/terraform/plan.json",
        "tests/fixtures/policy/terraform-vars.plan.json",
        "tests/fixtures/policy/shapes.plan.json",
    ];
    for f in fixtures {
        plans.push(
            serde_json::from_str(&std::fs::read_to_string(crate::root().join(f)).unwrap()).unwrap(),
        );
    }
    let mut compared = BTreeMap::new();
    for (i, doc) in plans.iter().enumerate() {
        let name = probes
            .get(i)
            .map_or_else(|| fixtures[i - probes.len()], |(n, _)| *n);
        let file = scratch(&format!("plan-{i}.json"), doc);
        let truth = checked(&file);
        assert!(!truth.is_empty(), "{name}: check found no stage");
        let regorus: BTreeMap<String, Vec<String>> = rego(REGO, "main", &doc.to_string())
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        for (engine, sets) in [("regorus", &regorus)] {
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
    eprintln!("regorus against check: {compared:?}");
    for engine in ["regorus"] {
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
