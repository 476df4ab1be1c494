//! Which files `check` reads, and what each one is. A file named on the
//! command line must be a plan or a template (else a usage error naming
//! it); in a directory walk, anything else is skipped and counted.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{template, terraform, yaml, PlannedStage, SkippedPath};

/// Largest file `check` reads by default: far above any real template or
/// plan (CloudFormation takes templates up to 1 MB; a plan of 5,000
/// resources is a few MB), far below what would exhaust a CI runner.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 128 * 1024 * 1024;

/// File endings a directory walk reads (`.tf.json` and `.tofu.json` end in
/// `json`; `.tofu` is OpenTofu's).
pub const EXTENSIONS: [&str; 6] = ["json", "yaml", "yml", "template", "tf", "tofu"];
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
    #[error("{path}: is neither a Terraform plan (terraform show -json), a CloudFormation, SAM or CDK template, nor a Serverless Framework service")]
    NotInput { path: String },
    #[error("nothing to check under {paths}: no Terraform plan or source, CloudFormation, SAM or CDK template, or Serverless Framework file ({skipped} file(s) skipped)")]
    NothingToCheck { paths: String, skipped: usize },
    #[error("{path}: {why}")]
    NotAPlan { path: String, why: String },
    #[error("{path}: no such file or directory")]
    Missing { path: String },
    #[error("{path}: a Serverless Framework service written as code is not read (check runs no code); render it first: serverless print > serverless.resolved.yml, and check that")]
    ScriptService { path: String },
    #[error("{path}: is not a regular file (a FIFO, a device, a socket); check reads files only")]
    NotRegular { path: String },
    #[error("{path}: is {size} bytes, over the limit of {max} (--max-file-size)")]
    TooLarge { path: String, size: u64, max: u64 },
}

impl FileError {
    /// The path the error is about, as shown.
    pub fn path(&self) -> &str {
        match self {
            FileError::Read { path, .. }
            | FileError::Syntax { path, .. }
            | FileError::NotInput { path }
            | FileError::NotAPlan { path, .. }
            | FileError::Missing { path }
            | FileError::ScriptService { path }
            | FileError::NotRegular { path }
            | FileError::TooLarge { path, .. } => path,
            FileError::NothingToCheck { paths, .. } => paths,
        }
    }

    /// What a walk records of a file it could not use: the path, and the
    /// reason without it.
    pub fn skipped(&self) -> SkippedPath {
        let shown = self.path();
        SkippedPath {
            path: shown.to_owned(),
            reason: reason_without_path(&crate::report::chain(self), shown),
        }
    }
}

/// An error's message without the path it starts with (said once, in
/// `path`): `deep.json:1: does not parse` -> `line 1: does not parse`.
fn reason_without_path(message: &str, shown: &str) -> String {
    let rest = message
        .strip_prefix(shown)
        .unwrap_or(message)
        .trim_start_matches(':')
        .trim_start();
    match rest.split_once(": ") {
        Some((n, why)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            format!("line {n}: {why}")
        }
        _ => rest.to_owned(),
    }
}

/// The text of a regular file of at most `max` bytes. The type and size
/// are checked before the file is opened (a FIFO would block, a device
/// never end), and the read stops past `max` (a file still growing).
pub fn read_text(path: &Path, shown: &str, max: u64) -> Result<String, FileError> {
    let failed = |source| FileError::Read {
        path: shown.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(failed)?;
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            path: shown.to_owned(),
        });
    }
    let too_large = |size| FileError::TooLarge {
        path: shown.to_owned(),
        size,
        max,
    };
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    let mut text = String::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(max.saturating_add(1)).read_to_string(&mut text))
        .map_err(failed)?;
    if text.len() as u64 > max {
        return Err(too_large(text.len() as u64));
    }
    Ok(text)
}

/// The stages one file creates, and warnings about how it was read.
pub fn read(
    path: &Path,
    shown: &str,
    max: u64,
) -> Result<(Vec<PlannedStage>, Vec<String>), FileError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if super::serverless::is_script_service(name) {
        return Err(FileError::ScriptService {
            path: shown.to_owned(),
        });
    }
    let text = read_text(path, shown, max)?;
    let syntax = |e: yaml::SyntaxError| FileError::Syntax {
        path: shown.to_owned(),
        line: e.line,
        message: e.message,
    };
    // Recognised by name first: a service file is never taken for a
    // template (its `resources:` section is judged inside it).
    if super::serverless::is_service_file(name) {
        let doc = yaml::parse(&text).map_err(syntax)?;
        return Ok((super::serverless::stages(&doc), Vec::new()));
    }
    let json_name = path.extension().is_some_and(|e| e == "json");
    // A plan is JSON; serde_json reads only its top-level fields here
    // (fast, and no tree of a large plan is built).
    let json = serde_json::from_str::<terraform::Probe<'_>>(&text);
    if let Ok(doc) = &json {
        match terraform::classify(doc) {
            terraform::Document::Plan(warnings) => {
                let warnings = warnings
                    .into_iter()
                    .map(|w| format!("{shown}: {w}"))
                    .collect();
                return Ok((terraform::stages(doc), warnings));
            }
            terraform::Document::Refused(why) => {
                return Err(FileError::NotAPlan {
                    path: shown.to_owned(),
                    why,
                })
            }
            terraform::Document::Other => {}
        }
    }
    // Valid JSON of another shape (an array, a duplicated field) is no
    // plan; only text that is not JSON at all is a syntax error here.
    let not_json = json
        .as_ref()
        .err()
        .filter(|e| e.classify() != serde_json::error::Category::Data);
    if let (Some(e), true) = (not_json, json_name) {
        return Err(FileError::Syntax {
            path: shown.to_owned(),
            line: e.line(),
            message: e.to_string(),
        });
    }
    // Templates, YAML or JSON, through the YAML reader for their lines, in
    // two passes so that no large template is ever held whole: the first
    // keeps all but the resources (Parameters, Globals: what judging needs),
    // the second hands each resource to the judge and drops it.
    let doc = yaml::parse_diverting(&text, "Resources", &mut |_, _| {}).map_err(syntax)?;
    if template::is_template(&doc) {
        let mut judge = template::Stages::new(&doc);
        yaml::parse_diverting(&text, "Resources", &mut |key, node| judge.entry(key, &node))
            .map_err(syntax)?;
        return Ok((judge.finish(), Vec::new()));
    }
    // A Serverless service under another name (`--config api.yml`).
    if super::serverless::is_service(&doc) {
        let doc = yaml::parse(&text).map_err(syntax)?;
        return Ok((super::serverless::stages(&doc), Vec::new()));
    }
    Err(FileError::NotInput {
        path: shown.to_owned(),
    })
}

/// Every file under `dir` a walk reads, in a stable order, and what it
/// could not walk (an unreadable directory, a FIFO with a template's name),
/// named with the reason.
pub fn walk(dir: &Path, cwd: &Path) -> (Vec<PathBuf>, Vec<SkippedPath>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let entries = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            !(e.file_type().is_dir()
                && e.depth() > 0
                && SKIPPED_DIRS.iter().any(|s| e.file_name() == *s))
        });
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // An unreadable directory's error may name no path: the
                // entry above it, else the walk's root, is what was refused.
                let path = shown(e.path().unwrap_or(dir), cwd);
                let reason = e
                    .io_error()
                    .map(|io| format!("cannot be read: {io}"))
                    .unwrap_or_else(|| e.to_string());
                skipped.push(SkippedPath { path, reason });
                continue;
            }
        };
        let name = entry.file_name().to_str().unwrap_or_default();
        if super::serverless::is_script_service(name) && !entry.file_type().is_dir() {
            let e = FileError::ScriptService {
                path: shown(entry.path(), cwd),
            };
            skipped.push(e.skipped());
            continue;
        }
        let wanted = entry
            .path()
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e));
        if !wanted || entry.file_type().is_dir() {
            continue;
        }
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        } else if !entry.file_type().is_symlink() {
            skipped.push(SkippedPath {
                path: shown(entry.path(), cwd),
                reason: "not a regular file".into(),
            });
        }
    }
    files.sort();
    (files, skipped)
}

/// `path` as results show it: relative to the working directory when it is
/// below it, with `/` separators (SARIF URIs and code review tools want that).
pub fn shown(path: &Path, cwd: &Path) -> String {
    let rel = path.strip_prefix(cwd).unwrap_or(path);
    let text = rel.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}

/// Where each line of a text starts: a block's line is a binary search,
/// not a count from byte 0 (which made a 5 MB file quadratic).
pub struct Lines(Vec<usize>);

impl Lines {
    pub fn new(text: &str) -> Self {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|nl| *nl < offset) + 1
    }
}
