//! `check` against what deploys. Terraform: each fixture's source, its real
//! plan (this machine's Terraform, offline) and the stages `terraform
//! apply` creates in moto, scanned, must agree stage by stage. SAM: the
//! template and aws-sam-translator's output of it (AWS's own transform)
//! must give the same stages. CloudFormation: the one stage shape moto's
//! CloudFormation models (a Deployment's StageName) is created and scanned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::deploy::{have, provider_mirror, repo, run, tempdir, terraform};
use crate::harness::run_offline;
use crate::support::*;

const FIXTURES: &str = "tests/fixtures/check";

/// `check --format json ARGS`, in this process: the results.
async fn check_json(args: &[&str]) -> Vec<Value> {
    let mut argv = vec!["check", "--format", "json"];
    argv.extend_from_slice(args);
    let out = run_offline(&argv).await;
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{argv:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["results"].as_array().unwrap().clone()
}

/// address -> status.
fn by_address(results: &[Value]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for r in results.iter().filter(|r| r["rule"] == "stage-tracing") {
        let prev = out.insert(
            r["resource"].as_str().unwrap().to_owned(),
            r["status"].as_str().unwrap().to_owned(),
        );
        assert!(prev.is_none(), "one result per address: {r}");
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else if name != "plan.json" && name != "README.md" {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// address -> (api id, stage name) of every stage in a state
/// (`terraform show -json`), modules included.
fn deployed_stages(state: &Value) -> BTreeMap<String, (String, String)> {
    fn walk(module: &Value, out: &mut BTreeMap<String, (String, String)>) {
        for r in module["resources"].as_array().into_iter().flatten() {
            let kind = r["type"].as_str().unwrap_or_default();
            let stage = r["values"]["stage_name"].as_str().unwrap_or_default();
            if (kind == "aws_api_gateway_stage" || kind == "aws_api_gateway_deployment")
                && !stage.is_empty()
            {
                out.insert(
                    r["address"].as_str().unwrap().to_owned(),
                    (
                        r["values"]["rest_api_id"].as_str().unwrap().to_owned(),
                        stage.to_owned(),
                    ),
                );
            }
        }
        for child in module["child_modules"].as_array().into_iter().flatten() {
            walk(child, out);
        }
    }
    let mut out = BTreeMap::new();
    walk(&state["values"]["root_module"], &mut out);
    out
}

/// What the scan concluded of each stage (`apiId/stage`): PASSED, FAILED,
/// or EXEMPT (a FAILED finding archived with an exemption reason).
async fn scanned(moto: &Moto) -> BTreeMap<String, String> {
    let out = scan_with(moto, &["--regions", "eu-west-1"]).await;
    assert_eq!(
        out.summary.status,
        apigw_tracing::report::RunStatus::Complete,
        "{}",
        out.summary.render_table()
    );
    findings(moto, MANAGEMENT, "eu-west-1")
        .await
        .into_iter()
        .map(|f| {
            let status = if f
                .product_fields
                .contains_key("apigw-tracing/scanner/ExemptionReason")
            {
                "EXEMPT".to_owned()
            } else {
                f.compliance.clone()
            };
            (f.stage(), status)
        })
        .collect()
}

/// address -> (status, the functions named) of the trace-path results.
fn paths_by_address(results: &[Value]) -> BTreeMap<String, (String, Vec<String>)> {
    results
        .iter()
        .filter(|r| r["rule"] == "trace-path")
        .map(|r| {
            let mut names: Vec<String> = r["functions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    format!(
                        "{} {}",
                        f["name"].as_str().unwrap(),
                        f["mode"].as_str().unwrap()
                    )
                })
                .collect();
            names.sort();
            (
                r["resource"].as_str().unwrap().to_owned(),
                (r["status"].as_str().unwrap().to_owned(), names),
            )
        })
        .collect()
}

/// One Terraform fixture: source vs plan, then (with `deploy`) vs what
/// `terraform apply` creates in moto, scanned.
async fn terraform_parity(fixture: &str, mirror: &Path, deploy: bool) {
    let dir = tempdir(&format!("parity-{}", fixture.replace('/', "-"))).join("root");
    copy_dir(&repo().join(FIXTURES).join(fixture), &dir);
    let tf = terraform(&dir, mirror);
    tf(&["init", "-input=false", "-no-color"]);
    tf(&[
        "plan",
        "-refresh=false",
        "-input=false",
        "-no-color",
        "-out",
        "tfplan",
    ]);
    let plan_file = dir.parent().unwrap().join("plan.json");
    std::fs::write(&plan_file, tf(&["show", "-json", "tfplan"])).unwrap();

    let source_results = check_json(&[dir.to_str().unwrap()]).await;
    let plan_results = check_json(&[plan_file.to_str().unwrap()]).await;
    // The trace path: from the source's references, and from the plan's
    // configuration and planned functions.
    assert_eq!(
        paths_by_address(&source_results),
        paths_by_address(&plan_results),
        "{fixture}: trace paths"
    );
    let source = by_address(&source_results);
    let plan = by_address(&plan_results);
    assert_eq!(
        source.keys().collect::<Vec<_>>(),
        plan.keys().collect::<Vec<_>>(),
        "{fixture}: the same stages, by the plan's addresses"
    );
    let mut known = 0;
    for (address, from_source) in &source {
        let from_plan = &plan[address];
        if from_source == "UNKNOWN" {
            continue;
        }
        known += 1;
        assert_eq!(from_source, from_plan, "{fixture}: {address}");
    }
    if !deploy {
        // The plan-only fixture is there for its trace path.
        assert!(!paths_by_address(&plan_results).is_empty(), "{fixture}");
        return;
    }
    assert!(known >= 5, "{fixture}: {source:?}");

    // Deploy it: moto models API Gateway's own API, tracingEnabled and
    // stage tags included.
    let moto = Moto::start();
    create_org(&moto, 0).await;
    enable_security_hub(&moto.sdk_config("eu-west-1").await).await;
    std::fs::write(
        dir.join("moto_override.tf"),
        format!(
            "provider \"aws\" {{\n  endpoints {{\n    apigateway   = \"{0}\"\n    apigatewayv2 = \"{0}\"\n    sts          = \"{0}\"\n  }}\n}}\n",
            moto.endpoint
        ),
    )
    .unwrap();
    tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let state: Value = serde_json::from_str(&tf(&["show", "-json"])).unwrap();
    let deployed = deployed_stages(&state);
    let scan = scanned(&moto).await;
    assert_eq!(deployed.len(), plan.len(), "{fixture}: {deployed:?}");
    for (address, (api, stage)) in &deployed {
        let found = &scan[&format!("{api}/{stage}")];
        assert_eq!(found, &plan[address], "{fixture}: {address} plan vs scan");
        if source[address] != "UNKNOWN" {
            assert_eq!(
                found, &source[address],
                "{fixture}: {address} source vs scan"
            );
        }
    }
}

#[tokio::test]
async fn terraform_source_plan_and_deployed_scan_agree() {
    let (Some(mirror), true) = (provider_mirror(), have("terraform")) else {
        eprintln!("SKIPPED: terraform or its hashicorp/aws provider mirror is not on this machine");
        return;
    };
    for fixture in ["terraform", "terraform-vars"] {
        terraform_parity(fixture, &mirror, true).await;
    }
    // Plan only: the functions would need code and roles in moto.
    terraform_parity("trace-path/terraform", &mirror, false).await;
}

/// Sampling verdicts from Terraform source and from the plan Terraform
/// itself makes of it (a module's rule, a `/health` exclusion, an API
/// named only after apply), and `--fail-on` on both.
#[tokio::test]
async fn sampling_verdicts_agree_between_terraform_source_and_its_plan() {
    let (Some(mirror), true) = (provider_mirror(), have("terraform")) else {
        eprintln!("SKIPPED: terraform or its hashicorp/aws provider mirror is not on this machine");
        return;
    };
    let dir = tempdir("parity-sampling").join("root");
    copy_dir(&repo().join(FIXTURES).join("sampling/terraform"), &dir);
    let tf = terraform(&dir, &mirror);
    tf(&["init", "-input=false", "-no-color"]);
    tf(&[
        "plan",
        "-refresh=false",
        "-input=false",
        "-no-color",
        "-out",
        "tfplan",
    ]);
    let plan_file = dir.parent().unwrap().join("plan.json");
    std::fs::write(&plan_file, tf(&["show", "-json", "tfplan"])).unwrap();
    let want = [
        ("aws_api_gateway_stage.dev".to_owned(), "PASSED".to_owned()),
        (
            "aws_api_gateway_stage.live".to_owned(),
            "UNKNOWN".to_owned(),
        ),
        ("aws_api_gateway_stage.prod".to_owned(), "FAILED".to_owned()),
    ];
    for input in [dir.to_str().unwrap(), plan_file.to_str().unwrap()] {
        let results = check_json(&[input]).await;
        let sampling: Vec<(String, String)> = {
            let mut v: Vec<(String, String)> = results
                .iter()
                .filter(|r| r["rule"] == "sampling")
                .map(|r| {
                    (
                        r["resource"].as_str().unwrap().to_owned(),
                        r["status"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(sampling, want, "{input}");
        let prod = results
            .iter()
            .find(|r| r["rule"] == "sampling" && r["resource"] == "aws_api_gateway_stage.prod")
            .unwrap();
        let message = prod["message"].as_str().unwrap();
        assert!(
            message.contains("'quiet-orders'") && message.contains("'health'"),
            "{input}: {message}"
        );
        // The default exit status counts stages (qa fails); sampling alone
        // fails prod; trace-path alone fails nothing here.
        for (fail_on, code) in [("stage", 3), ("sampling", 3), ("trace-path", 0)] {
            let out = run_offline(&["check", "--fail-on", fail_on, input]).await;
            assert_eq!(out.status.code(), Some(code), "{input} --fail-on {fail_on}");
        }
    }
}

/// Every SAM fixture, as written and as aws-sam-translator transforms it.
fn sam_fixtures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ["sam", "sam-more", "passing", "trace-path"]
        .iter()
        .flat_map(|d| std::fs::read_dir(repo().join(FIXTURES).join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| t.contains("AWS::Serverless-2016-10-31"))
        })
        .collect();
    out.sort();
    out
}

/// (stage, status) pairs of the stage rule, sorted: a multiset.
fn stage_statuses(results: &[Value]) -> Vec<(String, String)> {
    statuses_of(results, "stage-tracing")
}

/// (stage, status) pairs of one rule's results, sorted.
fn statuses_of(results: &[Value], rule: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = results
        .iter()
        .filter(|r| r["rule"] == rule)
        .map(|r| {
            (
                r["stage"].as_str().unwrap_or("?").to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn sam_templates_agree_with_aws_sam_translator() {
    let python = repo().join(".venv/bin/python");
    let dir = tempdir("sam-parity");
    let fixtures = sam_fixtures();
    assert!(fixtures.len() >= 6, "{fixtures:?}");
    let mut stages_seen = 0;
    let mut hooked = 0;
    let mut paths_seen = Vec::new();
    for fixture in fixtures {
        let name = fixture.file_stem().unwrap().to_string_lossy().into_owned();
        let out = dir.join(format!(
            "{}-{name}.json",
            fixture
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
        ));
        run(Command::new(&python).args([
            repo()
                .join("tests/check/sam_translate.py")
                .to_str()
                .unwrap(),
            fixture.to_str().unwrap(),
            out.to_str().unwrap(),
        ]));
        let source_results = check_json(&[fixture.to_str().unwrap()]).await;
        let transformed_results = check_json(&[out.to_str().unwrap()]).await;
        let source = stage_statuses(&source_results);
        let transformed = stage_statuses(&transformed_results);
        assert_eq!(source, transformed, "{}", fixture.display());
        stages_seen += source.len();
        // The trace path: SAM's functions, events, authorizers and
        // Globals.Function.Tracing, against the CloudFormation (the OpenAPI
        // body, AWS::Lambda::Function TracingConfig) the translator makes.
        let path = statuses_of(&source_results, "trace-path");
        assert_eq!(
            path,
            statuses_of(&transformed_results, "trace-path"),
            "trace path: {}",
            fixture.display()
        );
        paths_seen.extend(path.into_iter().map(|(_, s)| s));
        // The deploy-time hook, on what CloudFormation will create.
        hooked += crate::hook::hook_agrees_with_check(out.to_str().unwrap()).await;
    }
    assert!(stages_seen >= 8, "{stages_seen}");
    assert_eq!(
        hooked, stages_seen,
        "every transformed stage went through the hook"
    );
}

/// The CloudFormation shape moto's CloudFormation does model: a
/// Deployment's StageName makes a stage without tracing. moto ignores
/// `StageDescription.TracingEnabled` and does not create
/// `AWS::ApiGateway::Stage` resources, so only this shape is deployed.
#[tokio::test]
async fn a_cloudformation_deployment_stage_fails_in_check_and_in_the_scan() {
    let template = repo()
        .join(FIXTURES)
        .join("cloudformation/deployment-stage.yaml");
    let checked = check_json(&[template.to_str().unwrap()]).await;
    assert_eq!(
        stage_statuses(&checked),
        [("v1".to_owned(), "FAILED".to_owned())]
    );

    let moto = Moto::start();
    create_org(&moto, 0).await;
    let cfg = moto.sdk_config("eu-west-1").await;
    enable_security_hub(&cfg).await;
    let cfn = create_stack_with_boto3(&moto, &template);
    assert_eq!(cfn, "CREATE_COMPLETE");
    let scan = scanned(&moto).await;
    let statuses: Vec<&String> = scan.values().collect();
    assert_eq!(statuses, ["FAILED"], "{scan:?}");
    assert!(scan.keys().all(|k| k.ends_with("/v1")), "{scan:?}");
}

/// Creates a stack from `template` in moto (boto3 from the test venv, as
/// the SAM deploy test does) and returns its final status.
fn create_stack_with_boto3(moto: &Moto, template: &Path) -> String {
    let python = repo().join(".venv/bin/python");
    let script = [
        "import sys, time, boto3",
        "c = boto3.client('cloudformation', endpoint_url=sys.argv[1], region_name='eu-west-1', aws_access_key_id='testing', aws_secret_access_key='testing')",
        "c.create_stack(StackName='check-parity', TemplateBody=open(sys.argv[2]).read())",
        "for _ in range(120):",
        "    s = c.describe_stacks(StackName='check-parity')['Stacks'][0]['StackStatus']",
        "    if not s.endswith('IN_PROGRESS'): break",
        "    time.sleep(0.25)",
        "print(s)",
    ]
    .join("\n");
    run(Command::new(python).args(["-c", &script, &moto.endpoint, template.to_str().unwrap()]))
        .trim()
        .to_owned()
}

/// Serverless Framework v3, installed by `make it` (`.npm-sls`), or
/// `$SLS_BIN`.
fn serverless_cli() -> PathBuf {
    let path = std::env::var("SLS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".npm-sls/node_modules/.bin/sls"));
    assert!(
        path.exists(),
        "{} is missing: run `make it` (it installs serverless@3 into .npm-sls)",
        path.display()
    );
    path
}

#[tokio::test]
async fn serverless_services_agree_with_serverless_framework_package() {
    let sls = serverless_cli();
    let python = repo().join(".venv/bin/python");
    let dir = tempdir("sls-parity");
    let root = repo().join(FIXTURES).join("serverless");
    let mut services: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    services.sort();
    assert!(services.len() >= 5, "{services:?}");
    let mut statuses = Vec::new();
    for service in services {
        let name = service.file_name().unwrap().to_string_lossy().into_owned();
        let out = dir.join(format!("{name}.json"));
        // A service under another name is found by its content by check,
        // and named with --config to Serverless.
        let config = if service.join("serverless.yml").exists() {
            "serverless.yml"
        } else {
            "api.yml"
        };
        run(Command::new(&python).args([
            repo().join("tests/check/sls_package.py").to_str().unwrap(),
            sls.to_str().unwrap(),
            service.to_str().unwrap(),
            out.to_str().unwrap(),
            config,
        ]));
        let file = service.join(config);
        let source = stage_statuses(&check_json(&[file.to_str().unwrap()]).await);
        let packaged = stage_statuses(&check_json(&[out.to_str().unwrap()]).await);
        assert_eq!(source, packaged, "{name}");
        // The deploy-time hook, on what CloudFormation will create (with
        // Serverless's post-deploy stage update written in).
        assert_eq!(
            crate::hook::hook_agrees_with_check(out.to_str().unwrap()).await,
            packaged.len(),
            "{name}"
        );
        statuses.extend(source.into_iter().map(|(_, s)| s));
    }
    // The fixtures cover each verdict Serverless can produce here.
    statuses.sort();
    statuses.dedup();
    assert_eq!(statuses, ["EXEMPT", "FAILED", "PASSED"]);
}
