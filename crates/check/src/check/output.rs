//! Running `check` over paths, and its table and JSON output.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::files::{self, FileError};
use super::sampling::judge_sampling;
use super::tfsource;
use super::{judge, judge_path, CheckResult, CheckSummary, Rule, Verdict};

/// Everything one `check` found.
#[derive(Debug, Default, Serialize)]
pub struct Checked {
    pub results: Vec<CheckResult>,
    pub summary: CheckSummary,
}

/// How `check` reads what it is given.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// Largest file read (see `files::DEFAULT_MAX_FILE_SIZE`).
    pub max_file_size: u64,
    /// A named file that cannot be used is a usage error, and paths holding
    /// nothing to check are too (else, as in a walk, such a file is skipped
    /// and counted: the pre-commit hook, handed whatever a commit touches).
    pub named_files_must_be_input: bool,
    /// `--var-file`: Terraform variables for every root module.
    pub var_files: &'a [PathBuf],
}

/// Checks every path (a file, or a directory walked recursively). A file
/// named explicitly that cannot be used is an error; in a walk it is
/// skipped and counted. Terraform source is checked per module directory
/// once every path is known (a module's files are one unit).
pub fn check_paths(
    paths: &[PathBuf],
    cwd: &Path,
    today: chrono::NaiveDate,
    read: Reading<'_>,
) -> Result<Checked, FileError> {
    let mut out = Checked::default();
    let mut modules: Vec<(PathBuf, bool)> = Vec::new();
    for path in paths {
        let (targets, explicit) = if path.is_dir() {
            let (files, unusable) = files::walk(path, cwd);
            out.summary.skipped += unusable.len();
            out.summary.skipped_paths.extend(unusable);
            (files, false)
        } else if path.exists() {
            (vec![path.clone()], read.named_files_must_be_input)
        } else {
            return Err(FileError::Missing {
                path: path.display().to_string(),
            });
        };
        for file in targets {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            // A variables file counts as its module: the module is checked.
            if tfsource::is_source(name) || tfsource::is_vars(name) {
                let dir = match file.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                    _ => PathBuf::from("."),
                };
                modules.push((dir, explicit));
                continue;
            }
            let shown = files::shown(&file, cwd);
            match files::read(&file, &shown, read.max_file_size) {
                Ok((stages, read_warnings)) => {
                    out.summary.files += 1;
                    out.summary.warnings.extend(read_warnings);
                    for mut s in stages {
                        let path = std::mem::take(&mut s.path);
                        let sampling = std::mem::take(&mut s.sampling);
                        let (r, warnings) = judge(&shown, s, today);
                        out.results.extend(judge_path(path, &r));
                        out.results.extend(judge_sampling(&sampling, &r));
                        out.results.push(r);
                        out.summary.warnings.extend(warnings);
                    }
                }
                Err(e) if explicit => return Err(e),
                // Another kind of file: counted. A file that should have
                // been read and was not: counted and named.
                Err(FileError::NotInput { .. }) => out.summary.skipped += 1,
                Err(e) => {
                    out.summary.skipped += 1;
                    out.summary.skipped_paths.push(e.skipped());
                }
            }
        }
    }
    if !modules.is_empty() {
        let opts = tfsource::Options {
            var_files: read.var_files.to_vec(),
            max_file_size: read.max_file_size,
        };
        let report = tfsource::check(&modules, &opts, cwd)?;
        out.summary.files += report.files;
        out.summary.warnings.extend(report.warnings);
        out.summary.skipped += report.skipped.len();
        out.summary.skipped_paths.extend(report.skipped);
        for found in report.stages {
            let mut stage = found.stage;
            let path = std::mem::take(&mut stage.path);
            let sampling = std::mem::take(&mut stage.sampling);
            let (r, warnings) = judge(&found.file, stage, today);
            out.results.extend(judge_path(path, &r));
            out.results.extend(judge_sampling(&sampling, &r));
            out.results.push(r);
            out.summary.warnings.extend(warnings);
        }
    }
    // A gate pointed at the wrong place must not pass silently.
    if out.summary.files == 0 && read.named_files_must_be_input {
        return Err(FileError::NothingToCheck {
            paths: paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            skipped: out.summary.skipped,
        });
    }
    out.results.sort_by(|a, b| {
        (&a.file, a.line, &a.resource, a.rule).cmp(&(&b.file, b.line, &b.resource, b.rule))
    });
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
        match r.rule {
            Rule::TracePath => {
                let _ = writeln!(out, "  trace path: {}", r.message);
                continue;
            }
            Rule::Sampling => {
                let _ = writeln!(out, "  sampling: {}", r.message);
                continue;
            }
            Rule::StageTracing => {}
        }
        match r.status {
            Verdict::Failed => {
                let _ = writeln!(out, "  -> {}", r.fix.as_deref().unwrap_or_default());
            }
            Verdict::Exempt | Verdict::Unknown | Verdict::Warning => {
                let _ = writeln!(out, "  ({})", r.message);
            }
            Verdict::Passed => out.push('\n'),
        }
    }
    let s = &c.summary;
    for w in &s.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    for p in &s.skipped_paths {
        let _ = writeln!(out, "skipped: {}: {}", p.path, p.reason);
    }
    let _ = writeln!(
        out,
        "{} stage(s) in {} file(s): {} failed, {} passed, {} exempt, {} unknown; {} file(s) skipped",
        s.stages, s.files, s.failed, s.passed, s.exempt, s.unknown, s.skipped
    );
    if s.paths > 0 {
        let _ = writeln!(
            out,
            "{} trace path(s) behind traced stages: {} with a function not traced, {} unknown (they fail the check with --fail-on trace-path)",
            s.paths, s.paths_failed, s.paths_unknown
        );
    }
    if s.sampling > 0 {
        let _ = writeln!(
            out,
            "{} traced stage(s) judged against the sampling rules they define: {} blind, {} partly seen, {} unknown (blind ones fail the check with --fail-on sampling; rules defined elsewhere in the account are not visible here)",
            s.sampling, s.sampling_failed, s.sampling_warning, s.sampling_unknown
        );
    }
    out
}
