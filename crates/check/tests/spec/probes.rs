//! The promises the shipped policy files make, probed with `check` as the
//! truth: the Guard file by AWS's Guard engine (cfn-guard) on templates and
//! on both hook input shapes; the Conftest policy by regorus. (OPA's Go
//! engine, which Conftest embeds, comes as a Python wheel: its run of the
//! same probes is in the runtime's `make it`, tests/it/policy_opa.rs.)

use std::collections::BTreeMap;

use serde_json::json;

use crate::policy::{checked, guard_doc, rego, REGO};
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
}

#[test]
fn the_conftest_policy_agrees_with_check_under_regorus() {
    let mut compared = BTreeMap::new();
    for (i, (name, doc)) in rego_plans(&crate::root()).iter().enumerate() {
        let truth = checked(&scratch(&format!("plan-{i}.json"), doc));
        let sets: BTreeMap<String, Vec<String>> = rego(REGO, "main", &doc.to_string())
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        agree("regorus", name, &truth, &sets, &mut compared);
    }
    covered("regorus", &compared);
}

/// The sampling-rule rule, one probe at a time: the Lambda hook (the rule
/// crate's judge) gives each probe's verdict, and cfn-guard agrees in all
/// three input shapes.
#[test]
fn the_guard_file_and_the_hook_agree_on_every_sampling_probe() {
    use apigw_tracing_check::hook::{decide, HookRequest};
    let kind = "AWS::XRay::SamplingRule";
    let today = chrono::Utc::now().date_naive();
    for p in sampling_probes() {
        let request = json!({
            "clientRequestToken": "t", "awsAccountId": "111122223333",
            "actionInvocationPoint": "CREATE_PRE_PROVISION",
            "requestData": {"targetName": kind, "targetType": "RESOURCE", "targetLogicalId": "Rule",
                "targetModel": {"resourceProperties": p.cfn}},
        });
        let hook = decide(&HookRequest::parse(request).unwrap(), today).verdict;
        assert_eq!(hook, p.expected, "{}: the hook says {hook}", p.name);
        let fails = matches!(p.expected, "FAILED" | "UNKNOWN");
        for (shape, doc) in [
            (
                "template",
                json!({"Resources": {"R": {"Type": kind, "Properties": p.cfn}}}),
            ),
            (
                "Guard hook",
                json!({"Resources": {"R": {"ResourceType": kind, "ResourceProperties": p.cfn}}}),
            ),
            (
                "Control Tower hook",
                json!({kind: {"resourceProperties": p.cfn}}),
            ),
        ] {
            let got = guard_doc(&doc);
            assert_eq!(
                got == "FAIL",
                fails,
                "{}, {shape}: cfn-guard says {got}, expected {}",
                p.name,
                p.expected
            );
        }
    }
}

#[test]
fn the_conftest_policy_judges_sampling_rules_under_regorus() {
    let (plan, expected) = sampling_plan();
    let sets: BTreeMap<String, Vec<String>> = rego(REGO, "main", &plan.to_string())
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (address, want) in &expected {
        assert_eq!(verdict(&sets, address), *want, "{address}: {sets:?}");
    }
    let failed = expected.iter().filter(|(_, w)| *w == "FAILED").count();
    assert_eq!(sets["deny"].len(), failed, "{sets:?}");
}
