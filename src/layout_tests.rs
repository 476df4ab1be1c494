//! The architecture, checked: the pure core names no AWS SDK item, no
//! source file grows past a few hundred lines, and the top-level modules
//! import each other in one direction only.

/// (file, source) of every module of the pure core.
const CORE: &[(&str, &str)] = &[
    ("plan.rs", include_str!("plan.rs")),
    ("evaluate.rs", include_str!("evaluate.rs")),
    ("exempt/mod.rs", include_str!("exempt/mod.rs")),
    ("exempt/rules.rs", include_str!("exempt/rules.rs")),
    ("reconcile.rs", include_str!("reconcile.rs")),
    ("model/mod.rs", include_str!("model/mod.rs")),
    ("model/place.rs", include_str!("model/place.rs")),
    ("model/region.rs", include_str!("model/region.rs")),
    ("model/fix.rs", include_str!("model/fix.rs")),
    ("remediate/auto.rs", include_str!("remediate/auto.rs")),
    ("remediate/decide.rs", include_str!("remediate/decide.rs")),
    ("trigger/mod.rs", include_str!("trigger/mod.rs")),
    ("trigger/change.rs", include_str!("trigger/change.rs")),
    ("trigger/custom.rs", include_str!("trigger/custom.rs")),
    ("asff/mod.rs", include_str!("asff/mod.rs")),
    ("asff/validate.rs", include_str!("asff/validate.rs")),
    ("asff/path.rs", include_str!("asff/path.rs")),
    ("asff/resource.rs", include_str!("asff/resource.rs")),
    ("trace_path/mod.rs", include_str!("trace_path/mod.rs")),
    ("trace_path/uri.rs", include_str!("trace_path/uri.rs")),
    ("report/mod.rs", include_str!("report/mod.rs")),
    ("report/table.rs", include_str!("report/table.rs")),
    ("check/mod.rs", include_str!("check/mod.rs")),
    ("check/template.rs", include_str!("check/template.rs")),
    ("check/terraform.rs", include_str!("check/terraform.rs")),
    ("check/yaml.rs", include_str!("check/yaml.rs")),
    (
        "check/yaml_anchors.rs",
        include_str!("check/yaml_anchors.rs"),
    ),
    ("check/sarif.rs", include_str!("check/sarif.rs")),
    ("check/output.rs", include_str!("check/output.rs")),
    ("check/files.rs", include_str!("check/files.rs")),
    ("check/serverless.rs", include_str!("check/serverless.rs")),
    (
        "check/tfsource/mod.rs",
        include_str!("check/tfsource/mod.rs"),
    ),
    (
        "check/tfsource/load.rs",
        include_str!("check/tfsource/load.rs"),
    ),
    (
        "check/tfsource/eval/mod.rs",
        include_str!("check/tfsource/eval/mod.rs"),
    ),
    (
        "check/tfsource/eval/ev.rs",
        include_str!("check/tfsource/eval/ev.rs"),
    ),
    (
        "check/tfsource/eval/funcs.rs",
        include_str!("check/tfsource/eval/funcs.rs"),
    ),
    (
        "check/tfsource/eval/template.rs",
        include_str!("check/tfsource/eval/template.rs"),
    ),
    (
        "check/tfsource/eval/visit.rs",
        include_str!("check/tfsource/eval/visit.rs"),
    ),
    (
        "check/tfsource/scope.rs",
        include_str!("check/tfsource/scope.rs"),
    ),
    (
        "check/tfsource/judge.rs",
        include_str!("check/tfsource/judge.rs"),
    ),
    (
        "check/tfsource/vars.rs",
        include_str!("check/tfsource/vars.rs"),
    ),
    ("hook/mod.rs", include_str!("hook/mod.rs")),
    ("hook/request.rs", include_str!("hook/request.rs")),
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

/// Most lines a source file may have: past this, split it.
const MAX_LINES: usize = 420;

/// Every `.rs` file under `src/`, with its text.
fn sources() -> Vec<(std::path::PathBuf, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut out,
    );
    out.sort();
    out
}

#[test]
fn no_source_file_grows_past_a_few_hundred_lines() {
    let files = sources();
    assert!(files.len() > 40, "the walk found the sources");
    let long: Vec<String> = files
        .iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(path, text)| format!("{}: {} lines", path.display(), text.lines().count()))
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// The top-level module a file belongs to (`src/scan/region.rs` -> `scan`).
fn module_of(path: &std::path::Path) -> String {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = path.strip_prefix(&src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level modules `text` names through `crate::`.
fn uses(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn modules_import_each_other_in_one_direction_only() {
    use std::collections::{BTreeMap, BTreeSet};
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources() {
        // Test code may reach anywhere; the product's modules may not loop.
        let name = path.file_name().unwrap().to_string_lossy();
        if name == "tests.rs" || name == "layout_tests.rs" {
            continue;
        }
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let module = module_of(&path);
        let targets = graph.entry(module.clone()).or_default();
        targets.extend(
            uses(text)
                .into_iter()
                .filter(|m| *m != module && m != "testkit"),
        );
    }
    // Depth-first search for a path back to where it started.
    fn cycle(
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        let here = path.last().unwrap().clone();
        for next in graph.get(&here).into_iter().flatten() {
            if let Some(i) = path.iter().position(|m| m == next) {
                let mut found = path[i..].to_vec();
                found.push(next.clone());
                return Some(found);
            }
            path.push(next.clone());
            if let Some(c) = cycle(graph, path) {
                return Some(c);
            }
            path.pop();
        }
        None
    }
    for start in graph.keys() {
        if let Some(c) = cycle(&graph, &mut vec![start.clone()]) {
            panic!("import circle: {}", c.join(" -> "));
        }
    }
    // The check can fail: a made-up pair that names each other is found.
    let mut looped = BTreeMap::new();
    looped.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    looped.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert!(cycle(&looped, &mut vec!["a".to_owned()]).is_some());
}
