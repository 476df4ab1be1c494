//! A root module's variable values as `terraform plan` reads them, later
//! ones winning: `terraform.tfvars`, `terraform.tfvars.json`,
//! `*.auto.tfvars` and `*.auto.tfvars.json` in lexical order, then each
//! `--var-file` in the order given (Terraform's "Variable Definition
//! Precedence", without environment variables and `-var`). And where
//! `terraform init` installed a registry or git module.
//!
//! The tree may be a hostile pull request's: a variables file the module
//! picks up by name is read only when it is a regular file in the checked
//! tree (a link could point at a runner's secrets, and what is read can
//! reach the output), and no message quotes a value read from one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl::Value;

use super::super::files::{self, FileError};
use super::super::SkippedPath;
use super::{eval, load};

#[derive(Debug, thiserror::Error)]
pub enum VarsError {
    /// A `--var-file` the user named: always a usage error.
    #[error(transparent)]
    Named(FileError),
    /// A tfvars file of the module itself.
    #[error(transparent)]
    Own(FileError),
}

impl From<VarsError> for FileError {
    fn from(e: VarsError) -> Self {
        match e {
            VarsError::Named(e) | VarsError::Own(e) => e,
        }
    }
}

/// The values, and the variables files refused (links, devices, FIFOs).
pub type RootValues = (BTreeMap<String, Value>, Vec<SkippedPath>);

pub fn root_values(
    root: &Path,
    var_files: &[PathBuf],
    cwd: &Path,
    max: u64,
) -> Result<RootValues, VarsError> {
    let mut own: Vec<PathBuf> = ["terraform.tfvars", "terraform.tfvars.json"]
        .iter()
        .map(|n| root.join(n))
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    let mut auto: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    own.extend(auto);
    let mut values = BTreeMap::new();
    let mut refused = Vec::new();
    for path in &own {
        // Not followed: a link (wherever it points), a directory, a FIFO.
        let kind = path.symlink_metadata().map(|m| m.file_type());
        if !kind.as_ref().is_ok_and(|t| t.is_file()) {
            let what = match kind {
                Ok(t) if t.is_symlink() => "a symbolic link",
                _ => "not a regular file",
            };
            refused.push(SkippedPath {
                path: files::shown(path, cwd),
                reason: format!(
                    "is {what}: check reads variables files only when they are regular files in the checked tree"
                ),
            });
            continue;
        }
        values.extend(read(path, cwd, max).map_err(VarsError::Own)?);
    }
    for path in var_files {
        values.extend(read(path, cwd, max).map_err(VarsError::Named)?);
    }
    Ok((values, refused))
}

/// One tfvars file's values. They must be literal (Terraform refuses
/// references there too). Errors name the line and the variable, never
/// the text: the file may hold secrets.
fn read(path: &Path, cwd: &Path, max: u64) -> Result<BTreeMap<String, Value>, FileError> {
    let shown = files::shown(path, cwd);
    if !path.exists() {
        return Err(FileError::Missing { path: shown });
    }
    let text = files::read_text(path, &shown, max)?;
    let syntax = |line: usize, message: String| FileError::Syntax {
        path: shown.clone(),
        line,
        message,
    };
    let exprs: Vec<(String, hcl::Expression)> = if shown.ends_with(".json") {
        let doc: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| syntax(e.line(), "not a JSON variables file".into()))?;
        let serde_json::Value::Object(o) = doc else {
            return Err(syntax(1, "a variables file is an object of values".into()));
        };
        o.iter()
            .map(|(k, v)| (k.clone(), load::expression(v)))
            .collect()
    } else {
        let body = hcl::edit::parser::parse_body(&text).map_err(|e| {
            syntax(
                e.location().line(),
                "not a variables file (name = value lines)".into(),
            )
        })?;
        body.attributes()
            .map(|a| (a.key.as_str().to_owned(), a.value.clone().into()))
            .collect()
    };
    let budget = eval::Budget::default();
    exprs
        .into_iter()
        .map(|(k, e)| {
            let (v, _) = eval::eval(&e, &eval::NoNames, &budget).map_err(|_| {
                syntax(
                    1,
                    format!(
                        "{}: variables files take literal values",
                        crate::model::quote(&k)
                    ),
                )
            })?;
            Ok((k, v))
        })
        .collect()
}

/// Where `terraform init` installed a root's modules.
#[derive(Debug, Default)]
pub struct Installed {
    /// (`Key`, `Dir`) of each entry of `modules.json`.
    entries: Vec<(String, PathBuf)>,
    /// Why `modules.json` could not be used, when it exists.
    pub warning: Option<String>,
}

impl Installed {
    /// The directory of the module at `key_path` (`api`, `api.child`).
    pub fn dir(&self, key_path: &str) -> Option<PathBuf> {
        let (_, path) = self.entries.iter().find(|(k, _)| k == key_path)?;
        path.is_dir()
            .then(|| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()))
    }
}

/// `.terraform/modules/modules.json` of `root`, read like every other file
/// (a regular file under `--max-file-size`); a file that cannot be used is
/// named in a warning.
pub fn installed(root: &Path, cwd: &Path, max: u64) -> Installed {
    let path = root.join(".terraform/modules/modules.json");
    if path.symlink_metadata().is_err() {
        return Installed::default();
    }
    let shown = files::shown(&path, cwd);
    let unusable = |why: String| Installed {
        entries: Vec::new(),
        warning: Some(format!(
            "{shown}: not read ({why}); registry and git modules are not checked"
        )),
    };
    let text = match files::read_text(&path, &shown, max) {
        Ok(t) => t,
        Err(e) => return unusable(e.skipped().reason),
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => return unusable(format!("line {}: not JSON", e.line())),
    };
    let entries = doc["Modules"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| {
                    Some((m["Key"].as_str()?.to_owned(), root.join(m["Dir"].as_str()?)))
                })
                .collect()
        })
        .unwrap_or_default();
    Installed {
        entries,
        warning: None,
    }
}
