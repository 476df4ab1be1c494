//! Which files `check` reads, and what each one is. A file named on the
//! command line must be a plan or a template (else a usage error naming
//! it); in a directory walk, anything else is skipped and counted.

use std::path::{Path, PathBuf};

use super::{template, terraform, yaml, PlannedStage};

/// File endings a directory walk reads.
pub const EXTENSIONS: [&str; 4] = ["json", "yaml", "yml", "template"];
/// Directories a walk never enters.
pub const SKIPPED_DIRS: [&str; 3] = [".git", ".terraform", "node_modules"];

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: cannot be read")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: does not parse: {message}")]
    Syntax {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: is neither a Terraform plan (terraform show -json) nor a CloudFormation, SAM or CDK template")]
    NotInput { path: String },
    #[error("{path}: no such file or directory")]
    Missing { path: String },
}

/// The stages one file creates.
pub fn read(path: &Path, shown: &str) -> Result<Vec<PlannedStage>, FileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: shown.to_owned(),
        source,
    })?;
    let json_name = path.extension().is_some_and(|e| e == "json");
    // A plan is JSON; it is read with serde_json (fast on large plans).
    let json = serde_json::from_str::<serde_json::Value>(&text);
    if let Ok(doc) = &json {
        if terraform::is_plan(doc) {
            return Ok(terraform::stages(doc));
        }
    }
    if let (Err(e), true) = (&json, json_name) {
        return Err(FileError::Syntax {
            path: shown.to_owned(),
            line: e.line(),
            message: e.to_string(),
        });
    }
    // Templates, YAML or JSON, through the YAML reader for their lines.
    let doc = yaml::parse(&text).map_err(|e| FileError::Syntax {
        path: shown.to_owned(),
        line: e.line,
        message: e.message,
    })?;
    if template::is_template(&doc) {
        return Ok(template::stages(&doc));
    }
    Err(FileError::NotInput {
        path: shown.to_owned(),
    })
}

/// Every file under `dir` a walk reads, in a stable order.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            !(e.file_type().is_dir()
                && e.depth() > 0
                && SKIPPED_DIRS.iter().any(|s| e.file_name() == *s))
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
        })
        .collect();
    out.sort();
    out
}

/// `path` as results show it: relative to the working directory when it is
/// below it, with `/` separators (SARIF URIs and code review tools want that).
pub fn shown(path: &Path, cwd: &Path) -> String {
    let rel = path.strip_prefix(cwd).unwrap_or(path);
    let text = rel.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}
