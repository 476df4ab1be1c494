//! The deployment paths, run: the Terraform modules applied to moto and the
//! SAM template transformed and created through moto's CloudFormation; in
//! both cases the function's environment is read back from what was
//! deployed and the real Lambda binary is started with it under the local
//! Runtime API. A scheduled event must complete.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::events::fixture;
use crate::runtime_api::{LambdaProcess, Outcome, RuntimeApi};
use crate::support::*;

const ORG_ID: &str = "o-abcdefghij";

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory of the provider mirror: `$TF_PLUGIN_MIRROR`, or one of the
/// places these machines keep it (a directory holding
/// `registry.terraform.io/hashicorp/aws`).
pub(crate) fn provider_mirror() -> Option<PathBuf> {
    let candidates = std::env::var("TF_PLUGIN_MIRROR")
        .ok()
        .into_iter()
        .map(PathBuf::from)
        .chain(
            [
                "/opt/tf-plugins",
                "/usr/share/terraform/plugins",
                "/usr/local/share/terraform/plugins",
            ]
            .map(PathBuf::from),
        );
    candidates
        .into_iter()
        .find(|p| p.join("registry.terraform.io/hashicorp/aws").is_dir())
}

pub(crate) fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A loopback port nothing listens on (port 9, discard, is never served here).
pub(crate) const DEAD_PROXY: &str = "http://127.0.0.1:9";

/// `terraform ARGS` in `dir`, its output: providers from the local mirror
/// only (a CLI config written beside `dir`), and nothing leaving this
/// machine (any request not to the loopback moto goes to a closed loopback
/// port and fails).
pub(crate) fn terraform<'a>(dir: &'a Path, mirror: &Path) -> impl Fn(&[&str]) -> String + 'a {
    let rc = dir.with_extension("tfrc");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .unwrap();
    move |args: &[&str]| {
        run(Command::new("terraform")
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", &rc)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("HTTPS_PROXY", DEAD_PROXY)
            .env("HTTP_PROXY", DEAD_PROXY)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .args(args))
    }
}

/// A zip standing for the function's code (moto stores it; the binary under
/// test is the one cargo built).
pub(crate) fn dummy_zip(dir: &Path) -> PathBuf {
    let path = dir.join("bootstrap.zip");
    run(Command::new("python3").args([
        "-c",
        "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.writestr('bootstrap', '#!/bin/sh\\n')",
        path.to_str().unwrap(),
    ]));
    path
}

/// GET on moto's Lambda API (moto does not check signatures): the deployed
/// function's environment variables.
fn function_env(endpoint: &str, name: &str) -> BTreeMap<String, String> {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET /2015-03-31/functions/{name} HTTP/1.0\r\nHost: {host}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"));
    v["Configuration"]["Environment"]["Variables"]
        .as_object()
        .unwrap_or_else(|| panic!("no environment: {v:#}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Starts the binary with the deployed environment (plus what Lambda and
/// moto provide) and runs one scheduled event: it must complete and find
/// the seeded member's failing stage.
async fn start_from_deployed(moto: &Moto, deployed: BTreeMap<String, String>, member: &str) {
    assert_eq!(
        deployed.get("APIGW_TRACING_REGIONS").map(String::as_str),
        Some("eu-west-1")
    );
    assert_eq!(
        deployed.get("APIGW_TRACING_TRACE_PATH").map(String::as_str),
        Some("on")
    );
    // The member roles as deployed: the scan role reads functions only; the
    // remediation role may set their tracing (EnableTracePathRemediation).
    let scan = role_policy(moto, "apigw-tracing-scan", "apigw-tracing-scan").await;
    assert!(scan.contains("lambda:GetFunctionConfiguration"), "{scan}");
    assert!(!scan.contains("UpdateFunctionConfiguration"), "{scan}");
    let fix = role_policy(moto, "apigw-tracing-remediate", "apigw-tracing-remediate").await;
    assert!(fix.contains("lambda:UpdateFunctionConfiguration"), "{fix}");
    // Empty means unset: no empty external id reaches the function.
    assert!(
        !deployed.contains_key("APIGW_TRACING_EXTERNAL_ID"),
        "{deployed:?}"
    );
    let mut env: Vec<(String, String)> = deployed.into_iter().collect();
    env.extend(moto.cli_env().into_iter().map(|(k, v)| (k.to_owned(), v)));
    let api = RuntimeApi::start();
    let f = LambdaProcess::start(&api, &env);
    let id = api.push(
        &fixture("scheduler-scheduled.json"),
        Duration::from_secs(900),
    );
    match api.outcome(&id, Duration::from_secs(120)) {
        Some(Outcome::Response(s)) => {
            assert_eq!(s["status"], "complete", "{s:#}");
            assert_eq!(s["trace_path"], true, "{s:#}");
            assert!(
                s["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["account"] == member && r["failing"] == 1),
                "{s:#}"
            );
        }
        other => panic!("{other:?}; log: {:?}", f.log()),
    }
}

/// An inline role policy as IAM returns it (URL-encoded), decoded.
async fn role_policy(moto: &Moto, role: &str, name: &str) -> String {
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config("us-east-1").await);
    let out = iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{role}/{name}: {e:?}"));
    percent_encoding::percent_decode_str(&out.policy_document)
        .decode_utf8_lossy()
        .into_owned()
}

async fn seed(moto: &Moto) -> String {
    let members = create_org(moto, 1).await;
    one_failing_stage_each(moto, &members, "eu-west-1").await;
    members[0].clone()
}

#[tokio::test]
async fn the_terraform_modules_apply_to_moto_and_the_function_starts_from_them() {
    let (Some(mirror), true) = (provider_mirror(), have("terraform")) else {
        eprintln!("SKIPPED: terraform or its hashicorp/aws provider mirror is not on this machine");
        return;
    };
    let moto = Moto::start();
    let member = seed(&moto).await;
    let dir = tempdir("tf");
    let zip = dummy_zip(&dir);
    let infra = repo().join("infra/terraform");
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"variable "endpoint" {{ type = string }}
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {{
    cloudwatch = var.endpoint
    iam        = var.endpoint
    lambda     = var.endpoint
    logs       = var.endpoint
    scheduler  = var.endpoint
    sqs        = var.endpoint
    sts        = var.endpoint
    events     = var.endpoint
  }}
}}
module "central" {{
  source          = "{central}"
  regions         = ["eu-west-1"]
  organization_id = "{ORG_ID}"
  package_path    = "{zip}"
  # moto has no Security Hub CreateInsight.
  create_insight  = false
  trace_path      = "on"
}}
module "member" {{
  source                        = "{central}/member-role"
  scanner_role_arn              = module.central.scanner_role_arn
  organization_id               = "{ORG_ID}"
  enable_remediation            = true
  enable_trace_path_remediation = true
}}
module "member_events" {{
  source                = "{central}/member-events"
  central_event_bus_arn = module.central.change_event_bus_arn
}}
output "function_name" {{ value = module.central.function_name }}
"#,
            central = infra.display(),
            zip = zip.display()
        ),
    )
    .unwrap();
    let tf = terraform(&dir, &mirror);
    tf(&["init", "-input=false", "-no-color"]);
    tf(&["validate", "-no-color"]);
    let endpoint = format!("endpoint={}", moto.endpoint);
    tf(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &endpoint,
    ]);
    let name = tf(&["output", "-raw", "function_name"]);
    let deployed = function_env(&moto.endpoint, name.trim());
    start_from_deployed(&moto, deployed, &member).await;
}

pub(crate) fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apigw-tracing-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_sam_template_deploys_to_moto_and_the_function_starts_from_it() {
    let python = repo().join(".venv/bin/python");
    let translator = Command::new(&python)
        .args(["-c", "import samtranslator"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        translator,
        "aws-sam-translator is not in ./.venv: run `make venv`"
    );
    let moto = Moto::start();
    let member = seed(&moto).await;
    let dir = tempdir("sam");
    let zip = dummy_zip(&dir);
    let out = run(Command::new(&python).args([
        repo().join("tests/deploy/sam_to_moto.py").to_str().unwrap(),
        &moto.endpoint,
        repo().join("infra/template.yaml").to_str().unwrap(),
        zip.to_str().unwrap(),
    ]));
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    // moto keeps numeric parameters as numbers; Lambda would hand strings.
    let deployed: BTreeMap<String, String> = v["environment"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect();
    // The central bus, and the member side as deployed: the remediation
    // role (EnableRemediation) and the forwarding rule on the default bus.
    let bus = v["outputs"]["ChangeEventBusArn"]
        .as_str()
        .unwrap_or_default();
    assert!(bus.ends_with(":event-bus/apigw-tracing"), "{v:#}");
    let member_side = &v["member_outputs"];
    assert!(
        member_side["RemediationRoleArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":role/apigw-tracing-remediate")),
        "{v:#}"
    );
    assert!(
        member_side["ForwardRuleArn"]
            .as_str()
            .is_some_and(|a| a.contains(":rule/")),
        "{v:#}"
    );
    start_from_deployed(&moto, deployed, &member).await;
}
