//! What Cargo keeps: neither gate binary (`apigw-tracing-check`, and the
//! hook with its feature) has an AWS SDK crate in its dependency tree, and
//! the rule package has no SDK, no async runtime and no CLI parser. The
//! runtime's tree has the SDK: the test can fail.

use std::collections::BTreeSet;
use std::process::Command;

/// The crates of `cargo tree -e normal -p PACKAGE [ARGS]`.
fn tree(package: &str, args: &[&str]) -> BTreeSet<String> {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .args(args)
        .current_dir(workspace)
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn sdk(crates: &BTreeSet<String>) -> Vec<&String> {
    crates
        .iter()
        .filter(|c| {
            c.starts_with("aws-sdk-") || c.starts_with("aws-config") || c.starts_with("aws-smithy-")
        })
        .collect()
}

#[test]
fn the_gate_and_the_rule_have_no_aws_sdk_crate_in_their_trees() {
    let check = tree("apigw-tracing-check", &[]);
    assert!(check.contains("hcl-rs"), "the tree was read: {check:?}");
    assert!(sdk(&check).is_empty(), "{:?}", sdk(&check));
    assert!(
        !check.contains("lambda_runtime") && !check.contains("tokio"),
        "{check:?}"
    );
    let hook = tree("apigw-tracing-check", &["--features", "hook-lambda"]);
    assert!(hook.contains("lambda_runtime"), "{hook:?}");
    assert!(sdk(&hook).is_empty(), "{:?}", sdk(&hook));
    let rule = tree("apigw-tracing-rule", &[]);
    for forbidden in ["tokio", "clap", "hcl-rs", "lambda_runtime"] {
        assert!(!rule.contains(forbidden), "{forbidden} in {rule:?}");
    }
    assert!(sdk(&rule).is_empty(), "{:?}", sdk(&rule));
    // The check can fail: the runtime's tree does hold the SDK.
    let runtime = tree("apigw-tracing", &[]);
    assert!(runtime.contains("aws-sdk-apigateway"), "{runtime:?}");
}
