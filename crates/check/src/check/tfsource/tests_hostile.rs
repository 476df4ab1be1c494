//! Terraform source a hostile pull request (or an unusual repository) can
//! write: links out of the tree, sensitive values, evaluations that grow
//! without end, JSON block arrays, files that do not parse, odd counts.
//! Each of these once leaked, crashed, stalled or passed in silence.

use std::time::{Duration, Instant};

use super::tests::{checked, tree};
use super::*;
use crate::check::Verdict;

fn fast(started: Instant) {
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn linked_variables_files_are_refused_and_named_and_nothing_they_hold_is_read() {
    let outside = tree(
        "outside",
        &[
            ("secrets.tfvars", "name = \"TOPSECRET-NAME\"\n"),
            (".env", "SECRET=hunter2value\n"),
        ],
    );
    let dir = tree(
        "links",
        &[(
            "main.tf",
            "variable \"name\" { default = \"plain\" }\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = var.name\n}\n",
        )],
    );
    std::os::unix::fs::symlink(outside.join("secrets.tfvars"), dir.join("terraform.tfvars"))
        .unwrap();
    std::os::unix::fs::symlink(outside.join(".env"), dir.join("x.auto.tfvars")).unwrap();
    let (got, report) = checked(std::slice::from_ref(&dir), &[]);
    let everything = format!("{got:?} {report:?}");
    assert!(!everything.contains("TOPSECRET"), "{everything}");
    assert!(!everything.contains("hunter2value"), "{everything}");
    assert_eq!(got[0].2, "plain", "the link's value is not read: {got:?}");
    let named: Vec<&str> = report.skipped.iter().map(|s| s.path.as_str()).collect();
    assert!(
        named.iter().any(|p| p.ends_with("terraform.tfvars"))
            && named.iter().any(|p| p.ends_with("x.auto.tfvars")),
        "{:?}",
        report.skipped
    );
    assert!(report
        .skipped
        .iter()
        .all(|s| s.reason.contains("symbolic link")));
}

#[test]
fn a_variables_file_value_is_never_quoted_and_sensitive_values_are_redacted() {
    // In the tree, but not literal: the error names the variable, not the text.
    let dir = tree(
        "envfile",
        &[
            (
                "main.tf",
                "resource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = \"a\"\n}\n",
            ),
            ("terraform.tfvars", "SECRET=hunter2value\n"),
        ],
    );
    let (got, report) = checked(&[dir], &[]);
    let everything = format!("{got:?} {report:?}");
    assert!(!everything.contains("hunter2value"), "{everything}");
    assert!(
        everything.contains("SECRET"),
        "the variable is named: {everything}"
    );

    let dir = tree(
        "sensitive",
        &[(
            "main.tf",
            r#"
variable "db_password" {
  default   = "s3cr3t-pw"
  sensitive = true
}
locals { derived = "${var.db_password}-x" }
resource "aws_api_gateway_stage" "direct" {
  stage_name = var.db_password
  tags       = { owner = local.derived }
}
module "child" {
  source = "./child"
  name   = local.derived
}
"#,
        ), (
            "child/main.tf",
            "variable \"name\" {}\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = var.name\n}\n",
        )],
    );
    let (got, report) = checked(&[dir], &[]);
    let everything = format!("{got:?} {report:?}");
    assert!(!everything.contains("s3cr3t"), "{everything}");
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|g| g.2 == judge::SENSITIVE), "{got:?}");
}

#[test]
fn doubling_strings_and_lists_in_locals_stop_at_a_bound_and_say_so() {
    let mut text = String::from("locals {\n  s0 = \"xxxxxxxxxxxxxxxx\"\n  l0 = [1, 2]\n");
    for i in 1..64 {
        let p = i - 1;
        text += &format!("  s{i} = \"${{local.s{p}}}${{local.s{p}}}\"\n  l{i} = concat(local.l{p}, local.l{p})\n");
    }
    text += "}\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name           = \"s\"\n  xray_tracing_enabled = length(local.s63) > 0\n}\nresource \"aws_api_gateway_stage\" \"l\" {\n  stage_name           = \"l\"\n  xray_tracing_enabled = length(local.l63) > 0\n}\n";
    let dir = tree("doubling", &[("main.tf", &text)]);
    let started = Instant::now();
    let (got, _) = checked(&[dir], &[]);
    fast(started);
    assert_eq!(got.len(), 2);
    for g in &got {
        assert_eq!(g.1, Verdict::Unknown, "{g:?}");
        assert!(
            g.3.contains("bytes check evaluates") || g.3.contains("steps check spends"),
            "{g:?}"
        );
    }
}

#[test]
fn an_unused_local_costs_nothing_and_a_huge_for_each_is_unknown() {
    let ten = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
    let deep = format!("[for a in {ten} : [for b in {ten} : [for c in {ten} : [for d in {ten} : [for e in {ten} : [for f in {ten} : [for g in {ten} : 1]]]]]]]");
    let keys = format!("{{ for p in flatten([for a in {ten} : [for b in {ten} : [for c in {ten} : [for d in {ten} : [for e in {ten} : \"${{a}}${{b}}${{c}}${{d}}${{e}}\"]]]]]) : p => p }}");
    let text = format!(
        "locals {{\n  unused = {deep}\n  keys = {keys}\n}}\nresource \"aws_api_gateway_stage\" \"ok\" {{\n  stage_name = \"ok\"\n  xray_tracing_enabled = true\n}}\nresource \"aws_api_gateway_stage\" \"many\" {{\n  for_each = local.keys\n  stage_name = each.key\n}}\n"
    );
    let dir = tree("lazy", &[("main.tf", &text)]);
    let started = Instant::now();
    let (got, _) = checked(&[dir], &[]);
    fast(started);
    let ok = got
        .iter()
        .find(|g| g.0 == "aws_api_gateway_stage.ok")
        .unwrap();
    assert_eq!(ok.1, Verdict::Passed);
    let many: Vec<_> = got
        .iter()
        .filter(|g| g.0.starts_with("aws_api_gateway_stage.many"))
        .collect();
    assert_eq!(many.len(), 1, "not 10^5 instances");
    assert_eq!(many[0].1, Verdict::Unknown);
}

#[test]
fn module_and_resource_counts_do_not_multiply_past_the_run_cap() {
    let dir = tree(
        "multiply",
        &[
            ("main.tf", "module \"m\" {\n  source = \"./m\"\n  count  = 10000\n}\n"),
            ("m/main.tf", "resource \"aws_api_gateway_stage\" \"s\" {\n  count      = 10000\n  stage_name = \"s\"\n}\n"),
        ],
    );
    let started = Instant::now();
    let (got, _) = checked(&[dir], &[]);
    fast(started);
    assert!(got.len() <= MAX_RUN_INSTANCES + 1, "{}", got.len());
    assert!(got
        .iter()
        .any(|g| g.1 == Verdict::Unknown && g.3.contains("instances check expands")));
}

#[test]
fn for_each_over_a_large_literal_map_is_linear() {
    let mut map = String::from("locals {\n  stages = {\n");
    for i in 0..10_000 {
        map += &format!("    s{i} = {{ on = {} }}\n", i % 2 == 0);
    }
    map += "  }\n}\nresource \"aws_api_gateway_stage\" \"s\" {\n  for_each             = local.stages\n  stage_name           = each.key\n  xray_tracing_enabled = each.value.on\n}\n";
    let dir = tree("bigmap", &[("main.tf", &map)]);
    let started = Instant::now();
    let (got, _) = checked(&[dir], &[]);
    fast(started);
    assert_eq!(got.len(), 10_000);
    assert_eq!(got.iter().filter(|g| g.1 == Verdict::Passed).count(), 5_000);
}

#[test]
fn json_blocks_written_as_arrays_are_read_at_every_level() {
    let dir = tree(
        "jsonarrays",
        &[(
            "main.tf.json",
            r#"{
  "variable": [{"on": {"default": false}}],
  "locals": [{"name": "b"}],
  "resource": [
    {"aws_api_gateway_stage": {"a": {"stage_name": "a", "xray_tracing_enabled": "${var.on}"}}},
    {"aws_api_gateway_stage": [{"b": [{"stage_name": "${local.name}"}]}]}
  ]
}"#,
        )],
    );
    let (got, _) = checked(&[dir], &[]);
    let seen: Vec<(&str, Verdict)> = got.iter().map(|g| (g.0.as_str(), g.1)).collect();
    assert_eq!(
        seen,
        [
            ("aws_api_gateway_stage.a", Verdict::Failed),
            ("aws_api_gateway_stage.b", Verdict::Failed)
        ]
    );
    assert_eq!(got[1].2, "b");
}

#[test]
fn a_file_that_does_not_parse_does_not_hide_the_rest_of_its_module() {
    let deep = format!(
        "locals {{\n  x = {}1{}\n}}\n",
        "[".repeat(300),
        "]".repeat(300)
    );
    let dir = tree(
        "deepfile",
        &[
            ("deep.tf", &deep),
            ("main.tf", "resource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = \"s\"\n}\nresource \"aws_api_gateway_stage\" \"t\" {\n  stage_name = \"t\"\n  xray_tracing_enabled = local.x == 1\n}\n"),
        ],
    );
    let (got, report) = checked(&[dir], &[]);
    let s = got
        .iter()
        .find(|g| g.0 == "aws_api_gateway_stage.s")
        .unwrap();
    assert_eq!(s.1, Verdict::Failed, "{got:?}");
    let t = got
        .iter()
        .find(|g| g.0 == "aws_api_gateway_stage.t")
        .unwrap();
    assert_eq!(t.1, Verdict::Unknown, "{got:?}");
    assert!(t.3.contains("deep.tf was skipped"), "{t:?}");
    let named = report
        .skipped
        .iter()
        .filter(|s| s.path.ends_with("deep.tf"))
        .count();
    assert_eq!(named, 1, "{:?}", report.skipped);
}

#[test]
fn modules_json_is_read_under_the_file_rules() {
    for (tag, make) in [("zero", 0u8), ("fifo", 1), ("large", 2)] {
        let dir = tree(
            &format!("modjson-{tag}"),
            &[("main.tf", "module \"remote\" {\n  source = \"x/y/aws\"\n}\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = \"s\"\n}\n")],
        );
        let mj = dir.join(".terraform/modules/modules.json");
        std::fs::create_dir_all(mj.parent().unwrap()).unwrap();
        match make {
            0 => std::os::unix::fs::symlink("/dev/zero", &mj).unwrap(),
            1 => {
                let made = std::process::Command::new("mkfifo")
                    .arg(&mj)
                    .status()
                    .unwrap();
                assert!(made.success());
            }
            _ => std::fs::write(&mj, " ".repeat(2 << 20)).unwrap(),
        }
        let started = Instant::now();
        let (got, report) = checked(&[dir], &[]);
        fast(started);
        assert_eq!(got[0].1, Verdict::Failed, "{tag}");
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("modules.json: not read")),
            "{tag}: {:?}",
            report.warnings
        );
    }
}

#[test]
fn a_long_chain_of_locals_in_reverse_order_is_linear() {
    let mut text = String::from("locals {\n");
    for i in (1..3000).rev() {
        text += &format!("  l{i} = local.l{}\n", i - 1);
    }
    text += "  l0 = \"end\"\n}\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = local.l2999\n}\n";
    let dir = tree("chain", &[("main.tf", &text)]);
    let started = Instant::now();
    let (got, _) = checked(&[dir], &[]);
    fast(started);
    assert_eq!(got[0].2, "end");
}

#[test]
fn line_numbers_of_a_large_file_are_counted_once() {
    let mut text = String::new();
    for i in 0..20_000 {
        text +=
            &format!("resource \"aws_api_gateway_stage\" \"s{i}\" {{\n  stage_name = \"s\"\n}}\n");
    }
    let dir = tree("bigfile", &[("main.tf", &text)]);
    let started = Instant::now();
    let dirs = [(dir, false)];
    let report = check(
        &dirs,
        &Options {
            var_files: vec![],
            max_file_size: 64 << 20,
        },
        Path::new("/"),
    )
    .unwrap();
    fast(started);
    let last = report
        .stages
        .iter()
        .find(|f| f.stage.resource == "aws_api_gateway_stage.s19999")
        .unwrap();
    assert_eq!(last.stage.line, Some(19_999 * 3 + 1));
}

#[test]
fn count_and_booleans_convert_as_terraform_does() {
    let dir = tree(
        "counts",
        &[(
            "main.tf",
            r#"
resource "aws_api_gateway_stage" "two" {
  count                = "2"
  stage_name           = "two"
  xray_tracing_enabled = "1"
}
resource "aws_api_gateway_stage" "negative" {
  count      = -1
  stage_name = "n"
}
resource "aws_api_gateway_stage" "fraction" {
  count      = 1.5
  stage_name = "f"
}
resource "aws_api_gateway_stage" "huge" {
  count      = 1e300
  stage_name = "h"
}
"#,
        )],
    );
    let (got, _) = checked(&[dir], &[]);
    let two: Vec<_> = got
        .iter()
        .filter(|g| g.0.starts_with("aws_api_gateway_stage.two["))
        .collect();
    assert_eq!(two.len(), 2, "{got:?}");
    assert!(two.iter().all(|g| g.1 == Verdict::Passed), "{two:?}");
    for (name, value) in [("negative", "-1"), ("fraction", "1.5"), ("huge", "1e300")] {
        let g = got
            .iter()
            .find(|g| g.0 == format!("aws_api_gateway_stage.{name}"))
            .unwrap_or_else(|| panic!("{name}: {got:?}"));
        assert_eq!(g.1, Verdict::Unknown, "{g:?}");
        assert!(g.3.contains(value) || g.3.contains("1000000"), "{g:?}");
    }
}

#[test]
fn a_function_referred_to_inside_a_uri_template_is_on_the_path() {
    let dir = tree(
        "uritemplate",
        &[(
            "main.tf",
            r#"
resource "aws_api_gateway_rest_api" "api" { name = "a" }
resource "aws_lambda_function" "f" { function_name = "f" }
resource "aws_api_gateway_integration" "i" {
  rest_api_id = aws_api_gateway_rest_api.api.id
  type        = "AWS_PROXY"
  uri         = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${aws_lambda_function.f.arn}/invocations"
}
resource "aws_api_gateway_stage" "s" {
  rest_api_id          = aws_api_gateway_rest_api.api.id
  stage_name           = "s"
  xray_tracing_enabled = true
}
"#,
        )],
    );
    let dirs = [(dir, false)];
    let report = check(
        &dirs,
        &Options {
            var_files: vec![],
            max_file_size: 1 << 20,
        },
        Path::new("/"),
    )
    .unwrap();
    let path = &report.stages[0].stage.path;
    assert_eq!(path.len(), 1, "{path:?}");
    assert_eq!(path[0].name, "aws_lambda_function.f");
}
