//! A root module's variable values as `terraform plan` reads them, later
//! ones winning: `terraform.tfvars`, `terraform.tfvars.json`,
//! `*.auto.tfvars` and `*.auto.tfvars.json` in lexical order, then each
//! `--var-file` in the order given (Terraform's "Variable Definition
//! Precedence", without environment variables and `-var`). And where
//! `terraform init` installed a registry or git module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl::Value;

use super::super::files::{self, FileError};
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

pub fn root_values(
    root: &Path,
    var_files: &[PathBuf],
    cwd: &Path,
    max: u64,
) -> Result<BTreeMap<String, Value>, VarsError> {
    let mut own: Vec<PathBuf> = ["terraform.tfvars", "terraform.tfvars.json"]
        .iter()
        .map(|n| root.join(n))
        .filter(|p| p.is_file())
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
    for path in &own {
        values.extend(read(path, cwd, max).map_err(VarsError::Own)?);
    }
    for path in var_files {
        values.extend(read(path, cwd, max).map_err(VarsError::Named)?);
    }
    Ok(values)
}

/// One tfvars file's values. They must be literal (Terraform refuses
/// references there too).
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
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| syntax(e.line(), e.to_string()))?;
        let serde_json::Value::Object(o) = doc else {
            return Err(syntax(1, "a variables file is an object of values".into()));
        };
        o.iter()
            .map(|(k, v)| (k.clone(), load::expression(v)))
            .collect()
    } else {
        let body = hcl::edit::parser::parse_body(&text)
            .map_err(|e| syntax(e.location().line(), e.message().to_owned()))?;
        body.attributes()
            .map(|a| (a.key.as_str().to_owned(), a.value.clone().into()))
            .collect()
    };
    let ctx = eval::base();
    exprs
        .into_iter()
        .map(|(k, e)| {
            let v = eval::eval(&e, &ctx).map_err(|why| {
                syntax(
                    1,
                    format!("{k}: variables files take literal values ({})", why.text()),
                )
            })?;
            Ok((k, v))
        })
        .collect()
}

/// The directory `terraform init` installed the module at `key_path`
/// (`api`, `api.child`) into, from `.terraform/modules/modules.json`.
pub fn installed_module(root: &Path, key_path: &str) -> Option<PathBuf> {
    let text = std::fs::read_to_string(root.join(".terraform/modules/modules.json")).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    let dir = doc["Modules"]
        .as_array()?
        .iter()
        .find(|m| m["Key"] == key_path)?["Dir"]
        .as_str()?
        .to_owned();
    let path = root.join(dir);
    path.is_dir()
        .then(|| std::fs::canonicalize(&path).unwrap_or(path))
}
