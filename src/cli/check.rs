//! `apigw-tracing check PATH...`: 0 when no stage fails, 3 when one does,
//! 2 for usage errors.

use clap::{Args, ValueEnum};

use super::{ExitStatus, Output};
use crate::report::chain;

#[derive(Debug, Args)]
pub struct CheckCommand {
    /// table: a line per stage; json: results and summary; sarif: SARIF
    /// 2.1.0 for code scanning.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,

    /// Files or directories (walked for .json, .yaml, .yml and .template
    /// files; .git, .terraform and node_modules skipped).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Table,
    Json,
    Sarif,
}

pub fn run(cmd: &CheckCommand, out: &mut Output<'_>) -> ExitStatus {
    let cwd = std::env::current_dir().unwrap_or_default();
    let today = chrono::Utc::now().date_naive();
    let checked = match crate::check::output::check_paths(&cmd.paths, &cwd, today) {
        Ok(c) => c,
        Err(e) => {
            out.error(&chain(&e));
            return ExitStatus::Usage;
        }
    };
    match cmd.format {
        CheckFormat::Table => out.emit(crate::check::output::table(&checked).as_bytes()),
        CheckFormat::Json => out.json(&checked),
        CheckFormat::Sarif => {
            out.json(&crate::check::sarif::to_sarif(&checked));
            out.say(&crate::check::output::table(&checked));
        }
    }
    if checked.summary.failed > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Complete
    }
}
