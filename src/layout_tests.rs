//! The architecture, checked: the pure core names no AWS SDK item, and no
//! source file grows past a few hundred lines.

/// (file, source) of every module of the pure core.
const CORE: &[(&str, &str)] = &[
    ("plan.rs", include_str!("plan.rs")),
    ("evaluate.rs", include_str!("evaluate.rs")),
    ("exempt/mod.rs", include_str!("exempt/mod.rs")),
    ("exempt/rules.rs", include_str!("exempt/rules.rs")),
    ("reconcile.rs", include_str!("reconcile.rs")),
    ("model.rs", include_str!("model.rs")),
    ("asff/mod.rs", include_str!("asff/mod.rs")),
    ("asff/validate.rs", include_str!("asff/validate.rs")),
    ("report/mod.rs", include_str!("report/mod.rs")),
    ("report/table.rs", include_str!("report/table.rs")),
    ("check/mod.rs", include_str!("check/mod.rs")),
    ("check/template.rs", include_str!("check/template.rs")),
    ("check/terraform.rs", include_str!("check/terraform.rs")),
    ("check/yaml.rs", include_str!("check/yaml.rs")),
    ("check/sarif.rs", include_str!("check/sarif.rs")),
    ("check/output.rs", include_str!("check/output.rs")),
    ("check/files.rs", include_str!("check/files.rs")),
];

/// What only the adapters (`src/aws/`) may name.
const SDK_NAMES: &[&str] = &[
    "aws_sdk_",
    "aws_smithy_",
    "aws_config",
    "aws_credential_types",
    "crate::aws",
];

#[test]
fn the_pure_core_imports_no_sdk_item() {
    let mut offences = Vec::new();
    for (file, source) in CORE {
        for (n, line) in source.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for name in SDK_NAMES {
                if line.contains(name) {
                    offences.push(format!("src/{file}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
    // The check can fail: an adapter file does name the SDK.
    assert!(include_str!("aws/inventory.rs").contains("aws_sdk_apigateway"));
}
