//! The member hook deployed into moto: the CloudFormation template as the
//! StackSet would create it, and the Terraform module applied; then the
//! hook binary started with what was deployed. moto's CloudFormation has
//! no `AWS::CloudFormation::LambdaHook` (it skips the resource), so the
//! hook registration itself is proven by cfn-lint's schema only.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::deploy::{dummy_zip, have, provider_mirror, repo, run, tempdir, terraform};
use crate::runtime_api::{LambdaProcess, Outcome, RuntimeApi};
use crate::support::Moto;

/// Every Action an inline policy allows, and on what.
fn allowed(role: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in role["policies"].as_array().unwrap() {
        for s in p["Statement"].as_array().unwrap() {
            assert_eq!(s["Effect"], "Allow");
            let list = |v: &Value| -> Vec<String> {
                match v {
                    Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
                    other => vec![other.as_str().unwrap().to_owned()],
                }
            };
            for a in list(&s["Action"]) {
                for r in list(&s["Resource"]) {
                    out.push((a.clone(), r));
                }
            }
        }
    }
    out.sort();
    out
}

/// The deployed hook function, started with its deployed environment under
/// the Runtime API: a stage without tracing is refused.
fn start_deployed(function: &Value) {
    let env: Vec<(String, String)> = function["Environment"]["Variables"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    assert!(env.is_empty(), "the hook needs no settings: {env:?}");
    assert_eq!(function["Handler"], "bootstrap");
    assert_eq!(function["Runtime"], "provided.al2023");
    let api = RuntimeApi::start();
    let f = LambdaProcess::start_binary(&crate::hook::hook_bin(), &api, &env);
    let id = api.push(
        &json!({
            "clientRequestToken": "deployed-1",
            "actionInvocationPoint": "UPDATE_PRE_PROVISION",
            "requestData": {
                "targetName": "AWS::ApiGateway::Stage",
                "targetType": "RESOURCE",
                "targetLogicalId": "Prod",
                "targetModel": {"resourceProperties": {"StageName": "prod", "TracingEnabled": "false"}}
            }
        }),
        Duration::from_secs(30),
    );
    match api.outcome(&id, Duration::from_secs(20)) {
        Some(Outcome::Response(r)) => {
            assert_eq!(
                (&r["hookStatus"], &r["errorCode"]),
                (&json!("FAILED"), &json!("NonCompliant")),
                "{r}"
            );
        }
        other => panic!("{other:?}; log: {:?}", f.log()),
    }
}

#[test]
fn the_member_hook_template_deploys_with_least_privilege() {
    let moto = Moto::start();
    let dir = tempdir("hook-cfn");
    let out = run(Command::new(repo().join(".venv/bin/python")).args([
        repo()
            .join("tests/deploy/hook_to_moto.py")
            .to_str()
            .unwrap(),
        &moto.endpoint,
        repo().join("infra/member-hook.yaml").to_str().unwrap(),
        dummy_zip(&dir).to_str().unwrap(),
    ]));
    let d: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(d["status"], "CREATE_COMPLETE", "{d:#}");
    let types: BTreeMap<&str, &str> = d["resources"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v["type"].as_str().unwrap()))
        .collect();
    for (id, kind) in [
        ("HookFunction", "AWS::Lambda::Function"),
        ("HookFunctionRole", "AWS::IAM::Role"),
        ("HookExecutionRole", "AWS::IAM::Role"),
        ("HookLogGroup", "AWS::Logs::LogGroup"),
    ] {
        assert_eq!(types.get(id), Some(&kind), "{types:?}");
    }
    // What moto cannot show: it skips the Lambda hook resource.
    assert!(
        !types.contains_key("StageTracingHook"),
        "moto now models LambdaHook: assert on it"
    );

    // The function's role writes its logs, nothing else.
    let fn_role = &d["function_role"];
    let actions: Vec<String> = allowed(fn_role).into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["logs:CreateLogStream", "logs:PutLogEvents"]);
    assert!(allowed(fn_role)
        .iter()
        .all(|(_, r)| r.contains(":log-group:/aws/lambda/apigw-tracing-hook")));
    assert_eq!(fn_role["attached"], json!([]));
    // The hook's role may invoke this function only, and only this
    // account's hooks may assume it.
    let exec = &d["execution_role"];
    assert_eq!(
        allowed(exec),
        [(
            "lambda:InvokeFunction".to_owned(),
            d["function"]["FunctionArn"].as_str().unwrap().to_owned()
        )]
    );
    let trust = &exec["trust"]["Statement"][0];
    assert_eq!(
        trust["Principal"]["Service"],
        "hooks.cloudformation.amazonaws.com"
    );
    assert!(trust["Condition"]["ArnLike"]["aws:SourceArn"]
        .as_str()
        .unwrap()
        .ends_with(":type/hook/*"));
    start_deployed(&d["function"]);
}

#[test]
fn the_member_hook_terraform_module_applies_to_moto() {
    let (Some(mirror), true) = (provider_mirror(), have("terraform")) else {
        eprintln!("SKIPPED: terraform or its hashicorp/aws provider mirror is not on this machine");
        return;
    };
    let moto = Moto::start();
    let dir = tempdir("hook-tf");
    let zip = dummy_zip(&dir);
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"provider "aws" {{
  region                      = "eu-west-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {{
    cloudformation = "{e}"
    iam            = "{e}"
    lambda         = "{e}"
    logs           = "{e}"
    sts            = "{e}"
  }}
}}
module "hook" {{
  source       = "{module}"
  package_path = "{zip}"
  failure_mode = "FAIL"
}}
output "function_arn" {{ value = module.hook.hook_function_arn }}
"#,
            e = moto.endpoint,
            module = repo().join("infra/terraform/member-hook").display(),
            zip = zip.display()
        ),
    )
    .unwrap();
    let tf = terraform(&dir, &mirror);
    tf(&["init", "-input=false", "-no-color"]);
    tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let arn = tf(&["output", "-raw", "function_arn"]);
    assert!(arn.ends_with(":function:apigw-tracing-hook"), "{arn}");
    let state: Value = serde_json::from_str(&tf(&["show", "-json"])).unwrap();
    let resources = state["values"]["root_module"]["child_modules"][0]["resources"]
        .as_array()
        .unwrap();
    let function = resources
        .iter()
        .find(|r| r["type"] == "aws_lambda_function")
        .unwrap();
    assert_eq!(function["values"]["handler"], "bootstrap");
    assert!(function["values"]["environment"]
        .as_array()
        .is_none_or(|e| e.is_empty()));
    let stack = resources
        .iter()
        .find(|r| r["type"] == "aws_cloudformation_stack")
        .unwrap();
    let body: Value =
        serde_json::from_str(stack["values"]["template_body"].as_str().unwrap()).unwrap();
    let hook = &body["Resources"]["StageTracingHook"];
    assert_eq!(hook["Properties"]["FailureMode"], "FAIL");
    assert_eq!(hook["Properties"]["LambdaFunction"], arn.trim());
    start_deployed(&json!({"Handler": "bootstrap", "Runtime": "provided.al2023"}));
}
