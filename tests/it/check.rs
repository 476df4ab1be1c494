//! `apigw-tracing check` as CI runs it: exit codes, each format, the
//! directory walk, and usage errors.

use serde_json::Value;

use crate::harness::{run_offline, Ran};

/// `apigw-tracing check ARGS`, in this process (cargo runs the tests from
/// the package root, where the fixtures' relative paths start).
fn check(args: &[&str]) -> Ran {
    let argv: Vec<&str> = std::iter::once("check")
        .chain(args.iter().copied())
        .collect();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(run_offline(&argv))
}

fn stderr(o: &Ran) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const FIXTURES: &str = "tests/fixtures/check";

#[test]
fn a_mixed_folder_is_checked_as_a_whole_and_fails_with_3() {
    let out = check(&["--format", "json", FIXTURES]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["summary"];
    assert_eq!(
        (
            &s["files"],
            &s["skipped"],
            &s["stages"],
            &s["failed"],
            &s["passed"],
            &s["exempt"],
            &s["unknown"]
        ),
        (
            &5.into(),
            &3.into(),
            &14.into(),
            &6.into(),
            &5.into(),
            &2.into(),
            &1.into()
        ),
        "{v:#}"
    );
    let results = v["results"].as_array().unwrap();
    let find = |file: &str, resource: &str| {
        results
            .iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(file) && r["resource"] == resource)
            .unwrap_or_else(|| panic!("{file} {resource}: {v:#}"))
    };
    let implicit = find("sam/template.yaml", "ServerlessRestApi");
    assert_eq!(
        (&implicit["status"], &implicit["stage"], &implicit["line"]),
        (&"FAILED".into(), &"Prod".into(), &9.into())
    );
    let module = find(
        "terraform/plan.json",
        "module.api[\"search\"].aws_api_gateway_stage.this",
    );
    assert_eq!(
        (&module["status"], &module["line"]),
        (&"FAILED".into(), &Value::Null)
    );
    let param = find("cloudformation/stack.yaml", "ParamStage");
    assert!(
        param["message"]
            .as_str()
            .unwrap()
            .contains("judged by the default of parameter EnableTracing"),
        "{param}"
    );
    assert_eq!(
        find(
            "cdk.out/OrdersStack.template.json",
            "OrdersApiDeploymentStageprod5E6F7A8B"
        )["status"],
        "PASSED"
    );
    assert!(!results
        .iter()
        .any(|r| r["file"].as_str().unwrap().contains("node_modules")));
    for r in results {
        for field in [
            "file", "resource", "type", "stage", "status", "line", "message",
        ] {
            assert!(r.get(field).is_some(), "{field} missing: {r}");
        }
    }
}

#[test]
fn no_failing_stage_exits_0_and_the_table_names_the_fix() {
    let ok = check(&["tests/fixtures/check/passing"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let out = check(&["tests/fixtures/check/cloudformation/stack.yaml"]);
    assert_eq!(out.status.code(), Some(3));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("FAILED   tests/fixtures/check/cloudformation/stack.yaml:26  DevStage  stage dev  -> set TracingEnabled: true"),
        "{table}"
    );
    assert!(
        table.contains("5 stage(s) in 1 file(s): 2 failed, 1 passed, 1 exempt, 1 unknown"),
        "{table}"
    );
}

#[test]
fn a_named_file_that_is_no_plan_or_template_is_a_usage_error() {
    for (path, want) in [
        (
            "tests/fixtures/check/unrelated/deployment.yaml",
            "unrelated/deployment.yaml: is neither a Terraform plan",
        ),
        (
            "tests/fixtures/check/unrelated/package.json",
            "unrelated/package.json: is neither",
        ),
        (
            "tests/fixtures/check/unrelated/broken.yaml",
            "unrelated/broken.yaml:4: does not parse",
        ),
        (
            "tests/fixtures/check/missing.yaml",
            "missing.yaml: no such file or directory",
        ),
    ] {
        let out = check(&[path]);
        assert_eq!(out.status.code(), Some(2), "{path}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{path}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{path}");
    }
    let no_path = check(&[]);
    assert_eq!(no_path.status.code(), Some(2));
}

#[test]
fn sarif_has_one_rule_locations_suppressions_and_stable_fingerprints() {
    let run = || {
        let out = check(&["--format", "sarif", FIXTURES]);
        assert_eq!(out.status.code(), Some(3));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let sarif = run();
    assert_eq!(sarif["version"], "2.1.0");
    let r = &sarif["runs"][0];
    let rules = r["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    let help = rules[0]["help"]["text"].as_str().unwrap();
    for fix in [
        "xray_tracing_enabled = true",
        "TracingEnabled: true",
        "Globals.Api.TracingEnabled: true",
    ] {
        assert!(help.contains(fix), "{fix}");
    }
    assert!(rules[0]["helpUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let results = r["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        9,
        "6 failed + 2 exempt + 1 unknown, no passed"
    );
    let levels = |lvl: &str| results.iter().filter(|x| x["level"] == lvl).count();
    assert_eq!((levels("error"), levels("note")), (8, 1));
    let suppressed: Vec<_> = results
        .iter()
        .filter(|x| x.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 2);
    assert!(suppressed
        .iter()
        .any(|x| x["suppressions"][0]["justification"] == "vendor proxy, no X-Ray support"));
    let dev = results
        .iter()
        .find(|x| x["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "DevStage")
        .unwrap();
    let loc = &dev["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "tests/fixtures/check/cloudformation/stack.yaml"
    );
    assert_eq!(loc["region"]["startLine"], 26);
    let prints = |s: &Value| -> Vec<Value> {
        s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(
        prints(&sarif),
        prints(&run()),
        "fingerprints are stable across runs"
    );
    let mut distinct: Vec<String> = prints(&sarif).iter().map(Value::to_string).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 9);
}
