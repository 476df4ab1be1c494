//! The architecture, checked where Cargo cannot: no source file grows past
//! a few hundred lines, and each package's top-level modules import each
//! other in one direction only. Which packages may use the AWS SDK is
//! Cargo's to say (`crates/check/tests/deps.rs`: the rule and the gate
//! have no SDK crate in their dependency trees).

/// Most lines a source file may have: past this, split it.
const MAX_LINES: usize = 420;

/// The source roots of the workspace's packages (the runtime's first).
fn roots() -> Vec<std::path::PathBuf> {
    let top = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    ["src", "crates/rule/src", "crates/check/src", "tools/src"]
        .iter()
        .map(|r| top.join(r))
        .collect()
}

/// Every `.rs` file under `root`, with its text.
fn sources_in(root: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
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
    walk(root, &mut out);
    out.sort();
    out
}

#[test]
fn no_source_file_grows_past_a_few_hundred_lines() {
    let files: Vec<_> = roots().iter().flat_map(|r| sources_in(r)).collect();
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
fn module_of(src: &std::path::Path, path: &std::path::Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
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
    for root in roots() {
        one_direction(&root);
    }
}

fn one_direction(root: &std::path::Path) {
    use std::collections::{BTreeMap, BTreeSet};
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources_in(root) {
        // Test code may reach anywhere; the product's modules may not loop.
        let name = path.file_name().unwrap().to_string_lossy();
        if name == "tests.rs" || name == "layout_tests.rs" {
            continue;
        }
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let module = module_of(root, &path);
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
