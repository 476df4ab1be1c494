//! `apigw-tracing check PATH...`: 0 when nothing `--fail-on` names fails
//! (by default: no stage), 3 when something does, 2 for usage errors.

use clap::{Args, ValueEnum};

use super::{ExitStatus, Output};
use crate::report::chain;

#[derive(Debug, Args)]
pub struct CheckCommand {
    /// table: a line per stage; json: results and summary; sarif: SARIF
    /// 2.1.0 for code scanning.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,

    /// Largest file read, in bytes, or with a unit: 512K, 64M, 1G. A larger
    /// file named on the command line is a usage error; in a directory walk
    /// it is skipped and named.
    #[arg(long, value_name = "SIZE", default_value = "128M", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Read named files as a directory walk does: a file that is not a plan
    /// or template (a package.json, a CI workflow) is skipped and counted,
    /// not a usage error. What a pre-commit hook needs: it is handed every
    /// staged file, and a commit without any template passes.
    #[arg(long)]
    pub hook: bool,

    /// Which rules' FAILED results make the exit status 3: a comma list of
    /// stage (X-Ray tracing off), trace-path (a function behind a traced
    /// stage not tracing actively), sampling (a sampling rule of the same
    /// file or module tree leaves a traced stage blind), or all. The others
    /// are reported and do not change the exit status.
    #[arg(
        long,
        value_name = "RULES",
        value_enum,
        value_delimiter = ',',
        default_value = "stage"
    )]
    pub fail_on: Vec<FailOn>,

    /// Terraform variables file for every root module, applied after its
    /// terraform.tfvars and *.auto.tfvars, as `terraform plan -var-file`
    /// does. Repeatable; later files win.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<std::path::PathBuf>,

    /// Files or directories (walked for .tf, .tf.json, .json, .yaml, .yml
    /// and .template files; .git, .terraform and node_modules skipped).
    /// Terraform source is checked per module directory.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Stage,
    TracePath,
    Sampling,
    All,
}

impl FailOn {
    /// Whether a FAILED result of `rule` fails the check.
    pub fn covers(list: &[FailOn], rule: crate::check::Rule) -> bool {
        use crate::check::Rule;
        list.iter().any(|f| {
            matches!(
                (f, rule),
                (FailOn::All, _)
                    | (FailOn::Stage, Rule::StageTracing)
                    | (FailOn::TracePath, Rule::TracePath)
                    | (FailOn::Sampling, Rule::Sampling)
            )
        })
    }
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
    let read = crate::check::output::Reading {
        max_file_size: cmd.max_file_size,
        named_files_must_be_input: !cmd.hook,
        var_files: &cmd.var_files,
    };
    let checked = match crate::check::output::check_paths(&cmd.paths, &cwd, today, read) {
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
    let fails = checked
        .results
        .iter()
        .any(|r| r.status == crate::check::Verdict::Failed && FailOn::covers(&cmd.fail_on, r.rule));
    if fails {
        ExitStatus::Findings
    } else {
        ExitStatus::Complete
    }
}

/// `123`, `512K`, `64M`, `1G` (binary units) as bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{t:?} is not a size (bytes, or a number with K, M or G)"))?;
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("{t:?}: the unit must be K, M or G")),
    };
    n.checked_mul(scale)
        .filter(|b| *b > 0)
        .ok_or_else(|| format!("{t:?} is not a usable size"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_with_their_units() {
        assert_eq!(super::parse_size("512"), Ok(512));
        assert_eq!(super::parse_size("64M"), Ok(64 << 20));
        assert_eq!(super::parse_size("1g"), Ok(1 << 30));
        assert!(super::parse_size("0").is_err());
        assert!(super::parse_size("12X").is_err());
        assert!(super::parse_size("M").is_err());
        assert_eq!(
            super::parse_size("128M"),
            Ok(crate::check::files::DEFAULT_MAX_FILE_SIZE),
            "the flag's default is the documented one"
        );
    }
}
