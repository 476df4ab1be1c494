use std::collections::BTreeMap;

use super::*;
use crate::check::{judge, Verdict};
use apigw_tracing_rule::testing::today;

/// A scratch directory with `files` (path, text) written into it.
pub(crate) fn tree(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apigw-tfsource-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn opts(var_files: &[PathBuf]) -> Options {
    Options {
        var_files: var_files.to_vec(),
        max_file_size: 1 << 20,
    }
}

/// (address, verdict, stage, message) of every stage under `dirs`.
pub(super) fn checked(
    dirs: &[PathBuf],
    var_files: &[PathBuf],
) -> (Vec<(String, Verdict, String, String)>, Report) {
    let dirs: Vec<(PathBuf, bool)> = dirs.iter().map(|d| (d.clone(), false)).collect();
    let mut report = check(&dirs, &opts(var_files), Path::new("/")).unwrap();
    let mut out: Vec<_> = std::mem::take(&mut report.stages)
        .into_iter()
        .map(|f| {
            let (r, _) = judge(&f.file, f.stage, today());
            (r.resource, r.status, r.stage.unwrap_or_default(), r.message)
        })
        .collect();
    out.sort();
    (out, report)
}

const STAGE: &str = r#"
resource "aws_api_gateway_stage" "s" {
  rest_api_id          = "abc"
  deployment_id        = "d"
  stage_name           = var.name
  xray_tracing_enabled = var.tracing
}
"#;

#[test]
fn variables_take_defaults_then_tfvars_then_auto_then_var_files() {
    let vars = r#"
variable "name" { default = "from-default" }
variable "tracing" { default = false }
"#;
    let dir = tree(
        "vars",
        &[
            ("main.tf", &format!("{vars}{STAGE}")),
            ("terraform.tfvars", "name = \"from-tfvars\"\n"),
            ("b.auto.tfvars", "name = \"from-auto-b\"\n"),
            (
                "a.auto.tfvars.json",
                "{\"name\": \"from-auto-a\", \"tracing\": true}",
            ),
        ],
    );
    let (got, _) = checked(std::slice::from_ref(&dir), &[]);
    // auto files in lexical order: b wins over a for name; a sets tracing.
    assert_eq!(got[0].1, Verdict::Passed, "{got:?}");
    assert_eq!(got[0].2, "from-auto-b");
    let extra = dir.join("extra.tfvars");
    std::fs::write(&extra, "name = \"from-var-file\"\ntracing = false\n").unwrap();
    let (got, _) = checked(std::slice::from_ref(&dir), &[extra]);
    assert_eq!(
        (got[0].1, got[0].2.as_str()),
        (Verdict::Failed, "from-var-file")
    );
}

#[test]
fn a_variable_without_a_value_is_unknown_and_named() {
    let dir = tree(
        "novalue",
        &[(
            "main.tf",
            &format!("variable \"name\" {{}}\nvariable \"tracing\" {{}}\n{STAGE}"),
        )],
    );
    let (got, _) = checked(&[dir], &[]);
    assert_eq!(got[0].1, Verdict::Unknown);
    assert!(got[0].3.contains("var.tracing"), "{}", got[0].3);
    assert!(got[0].3.contains("no default"), "{}", got[0].3);
}

#[test]
fn count_for_each_locals_and_functions_expand_as_the_plan_does() {
    let dir = tree(
        "expand",
        &[(
            "main.tf",
            r#"
locals {
  names   = toset(["b", "a", "a"])
  on      = { x = true, y = false }
  derived = merge(local.on, { z = length(local.names) == 2 })
}
resource "aws_api_gateway_stage" "counted" {
  count                = 2
  stage_name           = "c${count.index}"
  xray_tracing_enabled = count.index == 1
}
resource "aws_api_gateway_stage" "keyed" {
  for_each             = local.derived
  stage_name           = each.key
  xray_tracing_enabled = each.value ? true : false
}
resource "aws_api_gateway_stage" "set" {
  for_each   = local.names
  stage_name = upper(each.value)
}
resource "aws_api_gateway_stage" "late" {
  for_each   = aws_api_gateway_rest_api.x.tags
  stage_name = "late"
}
resource "aws_api_gateway_stage" "none" {
  count      = 0
  stage_name = "never"
}
resource "aws_api_gateway_stage" "huge" {
  count      = 1000000000
  stage_name = "typo"
}
"#,
        )],
    );
    let (got, _) = checked(&[dir], &[]);
    let short: Vec<(&str, Verdict, &str)> = got
        .iter()
        .map(|(a, v, s, _)| (a.as_str(), *v, s.as_str()))
        .collect();
    assert_eq!(
        short,
        [
            ("aws_api_gateway_stage.counted[0]", Verdict::Failed, "c0"),
            ("aws_api_gateway_stage.counted[1]", Verdict::Passed, "c1"),
            ("aws_api_gateway_stage.huge", Verdict::Unknown, "typo"),
            ("aws_api_gateway_stage.keyed[\"x\"]", Verdict::Passed, "x"),
            ("aws_api_gateway_stage.keyed[\"y\"]", Verdict::Failed, "y"),
            ("aws_api_gateway_stage.keyed[\"z\"]", Verdict::Passed, "z"),
            ("aws_api_gateway_stage.late", Verdict::Unknown, "late"),
            ("aws_api_gateway_stage.set[\"a\"]", Verdict::Failed, "A"),
            ("aws_api_gateway_stage.set[\"b\"]", Verdict::Failed, "B"),
        ]
    );
    assert!(
        got[2].3.contains("over the 10000 instances"),
        "{}",
        got[2].3
    );
    assert!(
        got[6].3.contains("for_each is not known before apply"),
        "{}",
        got[6].3
    );
}

#[test]
fn json_syntax_awscc_deployments_and_override_files() {
    let dir = tree(
        "json",
        &[
            (
                "main.tf.json",
                r#"{
  "variable": {"on": {"default": true}},
  "resource": {
    "aws_api_gateway_stage": {"j": {"stage_name": "j-${var.on}", "xray_tracing_enabled": "${var.on}"}},
    "awscc_apigateway_stage": {"c": {"stage_name": "c"}},
    "aws_api_gateway_deployment": {
      "none": {"rest_api_id": "x"},
      "empty": {"stage_name": ""},
      "late": {"stage_name": "${aws_api_gateway_rest_api.x.name}"}
    }
  }
}"#,
            ),
            (
                "main.tf",
                "resource \"aws_api_gateway_stage\" \"o\" {\n  stage_name = \"o\"\n}\n",
            ),
            (
                "main_override.tf",
                "resource \"aws_api_gateway_stage\" \"o\" {\n  xray_tracing_enabled = true\n}\n",
            ),
        ],
    );
    let (got, _) = checked(&[dir], &[]);
    let short: Vec<(&str, Verdict, &str)> = got
        .iter()
        .map(|(a, v, s, _)| (a.as_str(), *v, s.as_str()))
        .collect();
    assert_eq!(
        short,
        [
            ("aws_api_gateway_deployment.late", Verdict::Failed, ""),
            ("aws_api_gateway_stage.j", Verdict::Passed, "j-true"),
            ("aws_api_gateway_stage.o", Verdict::Passed, "o"),
            ("awscc_apigateway_stage.c", Verdict::Failed, "c"),
        ]
    );
}

#[test]
fn a_file_that_does_not_parse_is_an_error_when_named_and_a_skip_in_a_walk() {
    let dir = tree(
        "broken",
        &[(
            "main.tf",
            "resource \"aws_api_gateway_stage\" \"x\" {\n  a = \n}\n",
        )],
    );
    let named = check(&[(dir.clone(), true)], &opts(&[]), Path::new("/"));
    let err = crate::report::chain(&named.unwrap_err());
    assert!(err.contains("main.tf:"), "{err}");
    assert!(err.contains("does not parse"), "{err}");
    let walked = check(&[(dir, false)], &opts(&[]), Path::new("/")).unwrap();
    assert_eq!(walked.skipped.len(), 1);
    assert!(
        walked.skipped[0].path.ends_with("main.tf"),
        "{:?}",
        walked.skipped
    );
    // A missing --var-file is an error even in a walk.
    let ok = tree("varfile", &[("main.tf", STAGE)]);
    let missing = check(
        &[(ok, false)],
        &opts(&[PathBuf::from("/nonexistent.tfvars")]),
        Path::new("/"),
    );
    assert!(crate::report::chain(&missing.unwrap_err()).contains("nonexistent.tfvars"));
}

#[test]
fn the_trace_path_follows_integrations_and_authorizers_to_functions_of_the_module() {
    let dir = tree(
        "path",
        &[(
            "main.tf",
            r#"
variable "mode" { default = "Active" }
resource "aws_lambda_function" "a" {
  tracing_config { mode = var.mode }
}
resource "aws_lambda_function" "b" {}
resource "aws_api_gateway_integration" "i" {
  rest_api_id = aws_api_gateway_rest_api.x.id
  type        = "AWS"
  uri         = aws_lambda_function.a.invoke_arn
}
resource "aws_api_gateway_integration" "mock" {
  rest_api_id = aws_api_gateway_rest_api.x.id
  type        = "MOCK"
  uri         = aws_lambda_function.b.invoke_arn
}
resource "aws_api_gateway_authorizer" "auth" {
  rest_api_id    = aws_api_gateway_rest_api.other.id
  authorizer_uri = aws_lambda_function.b.invoke_arn
}
resource "aws_api_gateway_stage" "x" {
  rest_api_id = aws_api_gateway_rest_api.x.id
  stage_name  = "x"
}
resource "aws_api_gateway_stage" "other" {
  rest_api_id = aws_api_gateway_rest_api.other.id
  stage_name  = "o"
}
"#,
        )],
    );
    let dirs = [(dir, false)];
    let report = check(&dirs, &opts(&[]), Path::new("/")).unwrap();
    let paths: BTreeMap<String, Vec<(String, bool, String)>> = report
        .stages
        .iter()
        .map(|f| {
            (
                f.stage.resource.clone(),
                f.stage
                    .path
                    .iter()
                    .map(|p| (p.name.clone(), p.authorizer, p.mode.clone()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        paths["aws_api_gateway_stage.x"],
        [(
            "aws_lambda_function.a".to_owned(),
            false,
            "Active".to_owned()
        )],
        "the MOCK integration is not on the path"
    );
    assert_eq!(
        paths["aws_api_gateway_stage.other"],
        [(
            "aws_lambda_function.b".to_owned(),
            true,
            "PassThrough, not set".to_owned()
        )]
    );
}
