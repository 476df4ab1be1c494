//! Module calls: inputs, addresses, roots, installed modules, cycles.

use super::tests::{checked, tree};
use super::{check, Options};
use crate::check::Verdict;

#[test]
fn local_modules_get_their_inputs_and_full_addresses_and_are_not_roots() {
    let root = tree(
        "modules",
        &[
            (
                "main.tf",
                r#"
provider "aws" {
  default_tags {
    tags = { "apigw-tracing:exempt" = "shared sandbox" }
  }
}
module "api" {
  source   = "./modules/api"
  for_each = { on = true, off = false }
  name     = each.key
  tracing  = each.value
}
module "remote" {
  source = "terraform-aws-modules/apigateway-v2/aws"
}
"#,
            ),
            (
                "modules/api/main.tf",
                "variable \"name\" {}\nvariable \"tracing\" {}\nmodule \"inner\" {\n  source = \"../inner\"\n  on     = var.tracing\n}\n",
            ),
            (
                "modules/inner/main.tf",
                "variable \"on\" {}\nresource \"aws_api_gateway_stage\" \"this\" {\n  stage_name           = \"live\"\n  xray_tracing_enabled = var.on\n}\n",
            ),
        ],
    );
    // The walk hands every directory over; only the root is evaluated as
    // one (the modules would otherwise be UNKNOWN duplicates).
    let dirs = [
        root.clone(),
        root.join("modules/api"),
        root.join("modules/inner"),
    ];
    let (got, report) = checked(&dirs, &[]);
    let short: Vec<(&str, Verdict)> = got.iter().map(|(a, v, _, _)| (a.as_str(), *v)).collect();
    assert_eq!(
        short,
        [
            (
                "module.api[\"off\"].module.inner.aws_api_gateway_stage.this",
                Verdict::Exempt
            ),
            (
                "module.api[\"on\"].module.inner.aws_api_gateway_stage.this",
                Verdict::Passed
            ),
        ],
        "default_tags reach module resources"
    );
    assert_eq!(report.files, 3);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("module.remote"),
        "{:?}",
        report.warnings
    );
    assert!(
        report.warnings[0].contains("terraform init"),
        "{:?}",
        report.warnings
    );

    // After `terraform init`, the registry module is read from where it was
    // installed.
    let installed = root.join(".terraform/modules/remote");
    std::fs::create_dir_all(&installed).unwrap();
    std::fs::write(
        installed.join("main.tf"),
        "resource \"aws_api_gateway_deployment\" \"d\" {\n  stage_name = \"v1\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join(".terraform/modules/modules.json"),
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"remote","Source":"registry.terraform.io/x/y/aws","Dir":".terraform/modules/remote"}]}"#,
    )
    .unwrap();
    let (got, report) = checked(&dirs, &[]);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // A deployment's stage carries no tags, default_tags included.
    assert!(
        got.iter().any(
            |(a, v, s, _)| a == "module.remote.aws_api_gateway_deployment.d"
                && *v == Verdict::Failed
                && s == "v1"
        ),
        "{got:?}"
    );
}

#[test]
fn a_module_that_calls_itself_many_times_over_is_bounded() {
    let dir = tree(
        "selfcall",
        &[(
            "main.tf",
            "module \"again\" {\n  source = \"./\"\n  count  = 1000\n}\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = \"s\"\n}\n",
        )],
    );
    let started = std::time::Instant::now();
    let (got, report) = checked(&[dir], &[]);
    let _ = report;
    assert!(got.len() <= super::MAX_RUN_INSTANCES + 1, "{}", got.len());
    // The cap is said, as an UNKNOWN result, not a silent pass.
    assert!(
        got.iter()
            .any(|(_, v, _, m)| *v == Verdict::Unknown && m.contains("instances check expands")),
        "{:?}",
        got.iter()
            .filter(|g| g.1 != Verdict::Failed)
            .take(3)
            .collect::<Vec<_>>()
    );
    // Bounded work, not 1000^16 instances.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn modules_that_call_each_other_are_still_checked() {
    let root = tree(
        "cycle",
        &[
            (
                "a/main.tf",
                "module \"b\" {\n  source = \"../b\"\n}\nresource \"aws_api_gateway_stage\" \"a\" {\n  stage_name = \"a\"\n}\n",
            ),
            (
                "b/main.tf",
                "module \"a\" {\n  source = \"../a\"\n}\nresource \"aws_api_gateway_stage\" \"b\" {\n  stage_name = \"b\"\n}\n",
            ),
        ],
    );
    let (got, report) = checked(&[root.join("a"), root.join("b")], &[]);
    // One of them is taken as the root; the cycle stops at the depth limit.
    assert!(
        got.iter().any(|(a, ..)| a == "aws_api_gateway_stage.a"),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(a, ..)| a == "module.b.aws_api_gateway_stage.b"),
        "{got:?}"
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("nested deeper than 16")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn modules_outside_the_checked_tree_are_not_read() {
    // A sibling of the checked tree, and an installed module's Dir that
    // points out of the root module: neither is read, both are named.
    let base = tree(
        "escape",
        &[
            (
                "repo/main.tf",
                "module \"up\" {\n  source = \"../secret\"\n}\nmodule \"remote\" {\n  source = \"x/y/aws\"\n}\nresource \"aws_api_gateway_stage\" \"own\" {\n  stage_name = \"own\"\n}\n",
            ),
            (
                "repo/.terraform/modules/modules.json",
                r#"{"Modules": [{"Key": "remote", "Source": "x/y/aws", "Dir": "../secret"}]}"#,
            ),
            (
                "secret/main.tf",
                "locals { s = \"LEAKED-OUTSIDE\" }\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = local.s\n}\n",
            ),
        ],
    );
    let repo = base.join("repo");
    let dirs = [(repo.clone(), false)];
    let opts = Options {
        var_files: vec![],
        max_file_size: 1 << 20,
    };
    let report = check(&dirs, &opts, &repo).unwrap();
    let everything = format!("{report:?}");
    assert!(!everything.contains("LEAKED-OUTSIDE"), "{everything}");
    assert_eq!(report.stages.len(), 1, "{:?}", report.stages);
    let outside: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.contains("outside the checked tree"))
        .collect();
    assert_eq!(outside.len(), 2, "{:?}", report.warnings);
}

/// A stage that traces, or not, at `name`.
fn tofu_stage(name: &str, traced: bool) -> String {
    format!(
        "resource \"aws_api_gateway_stage\" \"{name}\" {{\n  rest_api_id = \"a\"\n  deployment_id = \"d\"\n  stage_name = \"{name}\"\n  xray_tracing_enabled = {traced}\n}}\n"
    )
}

#[test]
fn opentofu_loads_a_tofu_file_instead_of_its_tf_twin_overrides_and_modules_too() {
    let dir = super::tests::tree(
        "tofu",
        &[
            // Twins: OpenTofu reads main.tofu only (the stage fails there).
            ("main.tf", &tofu_stage("s", true)),
            ("main.tofu", &tofu_stage("s", false)),
            // An override twin: only the .tofu override applies.
            ("extra.tf", &tofu_stage("o", false)),
            (
                "extra_override.tf",
                "resource \"aws_api_gateway_stage\" \"o\" {\n  xray_tracing_enabled = false\n}\n",
            ),
            (
                "extra_override.tofu",
                "resource \"aws_api_gateway_stage\" \"o\" {\n  xray_tracing_enabled = true\n}\n",
            ),
            // A module of .tofu files only.
            ("calls.tofu", "module \"m\" {\n  source = \"./m\"\n}\n"),
            ("m/stage.tofu", &tofu_stage("inner", false)),
        ],
    );
    let (got, report) = super::tests::checked(std::slice::from_ref(&dir), &[]);
    let verdicts: Vec<(String, crate::check::Verdict)> =
        got.iter().map(|(a, v, _, _)| (a.clone(), *v)).collect();
    use crate::check::Verdict::{Failed, Passed};
    assert_eq!(
        verdicts,
        [
            ("aws_api_gateway_stage.o".to_owned(), Passed),
            ("aws_api_gateway_stage.s".to_owned(), Failed),
            ("module.m.aws_api_gateway_stage.inner".to_owned(), Failed),
        ]
    );
    let skipped: Vec<(String, String)> = report
        .skipped
        .iter()
        .map(|s| {
            (
                s.path.rsplit('/').next().unwrap().to_owned(),
                s.reason.rsplit('/').next().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ("main.tf".to_owned(), "main.tofu in its place".to_owned()),
            (
                "extra_override.tf".to_owned(),
                "extra_override.tofu in its place".to_owned()
            ),
        ]
    );
}
