//! Which files of a module directory are source, in which order, and
//! which OpenTofu leaves out: where `foo.tofu` and `foo.tf` both exist it
//! loads only `foo.tofu` (so for `.tofu.json`, and for `_override` files).

use std::path::{Path, PathBuf};

use super::super::files::{self, FileError};
use super::super::SkippedPath;

/// Whether `name` is Terraform or OpenTofu source (`.tf`, `.tf.json`,
/// `.tofu`, `.tofu.json`).
pub fn is_source(name: &str) -> bool {
    [".tf", ".tf.json", ".tofu", ".tofu.json"]
        .iter()
        .any(|end| name.ends_with(end))
}

/// `override.tf`, `*_override.tf` (and their `.json` and `.tofu` forms):
/// merged over the others, after them.
pub fn is_override(path: &Path) -> bool {
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .trim_end_matches(".json")
        .trim_end_matches(".tf")
        .trim_end_matches(".tofu");
    stem == "override" || stem.ends_with("_override")
}

/// The `.tf` twin OpenTofu ignores for a `.tofu` file: `main.tofu` ->
/// `main.tf`, `main.tofu.json` -> `main.tf.json`.
fn tf_twin(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let twin = match name.strip_suffix(".tofu.json") {
        Some(stem) => format!("{stem}.tf.json"),
        None => format!("{}.tf", name.strip_suffix(".tofu")?),
    };
    Some(path.with_file_name(twin))
}

/// The source files of `dir` (not below it) to read, overrides last, and
/// the `.tf` twins OpenTofu replaces, each named with its `.tofu` file.
pub fn sources(dir: &Path, cwd: &Path) -> Result<(Vec<PathBuf>, Vec<SkippedPath>), FileError> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| FileError::Read {
            path: files::shown(dir, cwd),
            source,
        })?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_source)
        })
        .collect();
    names.sort_by_key(|p| (is_override(p), p.clone()));
    let twins: Vec<(PathBuf, PathBuf)> = names
        .iter()
        .filter_map(|p| Some((tf_twin(p)?, p.clone())))
        .filter(|(twin, _)| names.contains(twin))
        .collect();
    let mut shadowed = Vec::new();
    for (twin, tofu) in &twins {
        names.retain(|p| p != twin);
        shadowed.push(SkippedPath {
            path: files::shown(twin, cwd),
            reason: format!("OpenTofu loads {} in its place", files::shown(tofu, cwd)),
        });
    }
    Ok((names, shadowed))
}
