//! Running `check` over paths, and its table and JSON output.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::files::{self, FileError};
use super::{judge, CheckResult, CheckSummary, Verdict};

/// Everything one `check` found.
#[derive(Debug, Default, Serialize)]
pub struct Checked {
    pub results: Vec<CheckResult>,
    pub summary: CheckSummary,
}

/// Checks every path (a file, or a directory walked recursively). A file
/// named explicitly that cannot be used is an error; in a walk it is
/// skipped and counted.
pub fn check_paths(
    paths: &[PathBuf],
    cwd: &Path,
    today: chrono::NaiveDate,
) -> Result<Checked, FileError> {
    let mut out = Checked::default();
    for path in paths {
        let (targets, explicit) = if path.is_dir() {
            (files::walk(path), false)
        } else if path.exists() {
            (vec![path.clone()], true)
        } else {
            return Err(FileError::Missing {
                path: path.display().to_string(),
            });
        };
        for file in targets {
            let shown = files::shown(&file, cwd);
            match files::read(&file, &shown) {
                Ok(stages) => {
                    out.summary.files += 1;
                    for s in stages {
                        let (r, warnings) = judge(&shown, s, today);
                        out.results.push(r);
                        out.summary.warnings.extend(warnings);
                    }
                }
                Err(e) if explicit => return Err(e),
                Err(_) => out.summary.skipped += 1,
            }
        }
    }
    out.results
        .sort_by(|a, b| (&a.file, a.line, &a.resource).cmp(&(&b.file, b.line, &b.resource)));
    out.summary.count(&out.results);
    Ok(out)
}

/// One line per stage, then the summary.
pub fn table(c: &Checked) -> String {
    let mut out = String::new();
    for r in &c.results {
        let at = match r.line {
            Some(l) => format!("{}:{l}", r.file),
            None => r.file.clone(),
        };
        let _ = write!(
            out,
            "{:<8} {at}  {}  stage {}",
            r.status.as_str(),
            r.resource,
            r.stage.as_deref().unwrap_or("?")
        );
        match r.status {
            Verdict::Failed => {
                let _ = writeln!(out, "  -> {}", r.fix.as_deref().unwrap_or_default());
            }
            Verdict::Exempt | Verdict::Unknown => {
                let _ = writeln!(out, "  ({})", r.message);
            }
            Verdict::Passed => out.push('\n'),
        }
    }
    let s = &c.summary;
    for w in &s.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let _ = writeln!(
        out,
        "{} stage(s) in {} file(s): {} failed, {} passed, {} exempt, {} unknown; {} file(s) skipped",
        s.stages, s.files, s.failed, s.passed, s.exempt, s.unknown, s.skipped
    );
    out
}
