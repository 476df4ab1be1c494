//! Terraform source (`.tf`, `.tf.json`) without a plan: what pre-commit and
//! pull-request checks have, with no credentials to plan. Each root module
//! is evaluated as `terraform plan` would see it before apply: variables
//! from defaults, `terraform.tfvars`, `*.auto.tfvars` and `--var-file`;
//! locals; `count` / `for_each` expanded into one stage per instance; local
//! child modules (and, after `terraform init`, registry and git modules)
//! entered with the inputs the caller passes. Addresses are the plan's, so a
//! stage has one identity from source and from plan. Whatever depends on a
//! value known only after apply is UNKNOWN, with the reason.
//!
//! The tree may be a hostile pull request's: every evaluation has a step
//! budget (`eval`), every run a cap on instances, and a file that cannot be
//! read costs only what it would have declared.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use hcl::Value;

use super::files::FileError;
use super::{Fix, PlannedStage, SkippedPath, Tracing};

mod eval;
mod judge;
mod load;
mod names;
mod path;
mod roots;
mod sampling;
mod scope;
mod vars;

pub use load::is_source;
use scope::scope;
pub use scope::{Bindings, Scope};

/// Whether `name` is a Terraform variables file (`.tfvars`, `.tfvars.json`).
pub fn is_vars(name: &str) -> bool {
    name.ends_with(".tfvars") || name.ends_with(".tfvars.json")
}

/// Nested module calls followed; deeper (or a cycle through `../`) stops
/// with a warning.
const MAX_MODULE_DEPTH: usize = 16;

/// Instances (of resources and of modules, over all modules) one run
/// expands: above a 5 MB file of plain stages (33,000 blocks; AWS allows a
/// few hundred REST APIs of 10 stages per account-region), and a cap that
/// does not multiply (a module with `count = 10000` calling a resource with
/// `count = 10000` stops here, not at 10^8).
pub const MAX_RUN_INSTANCES: usize = 50_000;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--var-file`, applied to every root module after its own tfvars.
    pub var_files: Vec<PathBuf>,
    pub max_file_size: u64,
}

/// One stage and the file its resource block is in.
#[derive(Debug, Clone)]
pub struct Found {
    pub file: String,
    pub stage: PlannedStage,
}

#[derive(Debug, Default)]
pub struct Report {
    pub stages: Vec<Found>,
    /// The sampling rules of the root being checked and its modules.
    pub rules: Vec<apigw_tracing_rule::sampling::SamplingRule>,
    pub files: usize,
    pub warnings: Vec<String>,
    pub skipped: Vec<SkippedPath>,
}

/// Checks the module directories `dirs` (each with whether it was named on
/// the command line: then a file that does not parse is an error, not a
/// skip). A directory that another one calls as a local module is
/// evaluated through its caller, with the inputs passed, not as a root.
pub fn check(dirs: &[(PathBuf, bool)], opts: &Options, cwd: &Path) -> Result<Report, FileError> {
    let mut report = Report::default();
    // Where modules may be read from: the working directory and the
    // directories checked (links resolved), never elsewhere.
    let mut bounds = vec![canonical(cwd)];
    bounds.extend(dirs.iter().map(|(d, _)| canonical(d)));
    let mut loader = Loader {
        bounds,
        cache: HashMap::new(),
        installed: HashMap::new(),
        cwd: cwd.to_owned(),
        max: opts.max_file_size,
        instances_left: MAX_RUN_INSTANCES,
        capped: false,
        budget: Rc::new(eval::Budget::default()),
    };
    let mut loaded: Vec<(PathBuf, bool)> = Vec::new();
    for (dir, strict) in dirs {
        let key = canonical(dir);
        if loaded.iter().any(|(d, _)| *d == key) {
            continue;
        }
        match loader.load(&key, *strict, &mut report) {
            Ok(m) => report.files += m.files.len(),
            Err(e) if *strict => return Err(e),
            Err(e) => {
                report.skipped.push(e.skipped());
                continue;
            }
        }
        loaded.push((key, *strict));
    }
    let roots = roots::roots(&loaded, &loader);
    for (root, strict) in loaded.iter().filter(|(d, _)| roots.contains(d)) {
        let (inputs, refused) =
            match vars::root_values(root, &opts.var_files, &loader.cwd, loader.max) {
                Ok(v) => v,
                Err(e) if *strict || matches!(e, vars::VarsError::Named(_)) => return Err(e.into()),
                Err(e) => {
                    report.skipped.push(FileError::from(e).skipped());
                    continue;
                }
            };
        report.skipped.extend(refused);
        let inputs = inputs
            .into_iter()
            .map(|(k, v)| (k, Ok((v, false))))
            .collect();
        let at = Call {
            root: root.clone(),
            key_path: String::new(),
            prefix: String::new(),
            inputs,
            default_tags: None,
            depth: 0,
        };
        let (stages_before, rules_before) = (report.stages.len(), report.rules.len());
        loader.instance(root, at, &mut report);
        // A root module's stages are judged with its tree's sampling rules
        // (one deploy, one account-region), not another root's.
        let rules: std::rc::Rc<[_]> = report.rules.drain(rules_before..).collect();
        if !rules.is_empty() {
            for f in &mut report.stages[stages_before..] {
                f.stage.sampling.rules = rules.clone();
            }
        }
    }
    Ok(report)
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
}

/// `source` when it is a local path (`./`, `../`), as Terraform defines it.
fn local_source(c: &load::ModuleCall) -> Option<String> {
    match c.attrs.get("source")? {
        hcl::Expression::String(s) if s.starts_with("./") || s.starts_with("../") => {
            Some(s.clone())
        }
        _ => None,
    }
}

/// A value passed in, whether it derives from a sensitive value, or why it
/// is not known before apply.
type Input = Result<(Value, bool), String>;

/// One module instance to evaluate.
struct Call {
    root: PathBuf,
    /// The call path as `modules.json` keys it: `api.child`.
    key_path: String,
    /// The address prefix: `module.api["x"].`.
    prefix: String,
    /// The inputs the caller passes (or, for a root, the tfvars).
    inputs: BTreeMap<String, Input>,
    default_tags: Option<Input>,
    depth: usize,
}

struct Loader {
    /// The directories module sources may resolve into (see `check`).
    bounds: Vec<PathBuf>,
    /// Each module directory, read once (shared by all its instances).
    cache: HashMap<PathBuf, Rc<load::Module>>,
    /// Each root's `.terraform/modules/modules.json`, read once.
    installed: HashMap<PathBuf, Rc<vars::Installed>>,
    cwd: PathBuf,
    max: u64,
    /// Instances still to expand in this run (see `MAX_RUN_INSTANCES`).
    instances_left: usize,
    /// The cap was reached: no module is entered any more.
    capped: bool,
    budget: Rc<eval::Budget>,
}

impl Loader {
    /// The module in `dir`, read once; the files it could not read are
    /// named once, when it is first read. `strict`: a file that cannot be
    /// read fails the directory (it was named on the command line).
    fn load(
        &mut self,
        dir: &Path,
        strict: bool,
        report: &mut Report,
    ) -> Result<&Rc<load::Module>, FileError> {
        if !self.cache.contains_key(dir) {
            let m = load::module(dir, &self.cwd, self.max, strict)?;
            report.skipped.extend(m.unread.iter().cloned());
            self.cache.insert(dir.to_owned(), Rc::new(m));
        }
        Ok(&self.cache[dir])
    }

    fn instance(&mut self, dir: &Path, call: Call, report: &mut Report) {
        let module = match self.load(dir, false, report) {
            Ok(m) => Rc::clone(m),
            Err(e) => {
                report.skipped.push(e.skipped());
                return;
            }
        };
        let scope = scope(&module, &call, &self.cwd, &self.budget);
        let default_tags = match &module.default_tags {
            Some(expr) => Some(scope.eval_at(&Bindings::default(), expr)),
            None => call.default_tags.clone(),
        };
        let paths = path::Paths::new(&module, &scope);
        let apis = sampling::rest_apis(&module);
        for r in module
            .resources
            .iter()
            .filter(|r| load::JUDGED.contains(&r.kind.as_str()))
        {
            let functions = paths.behind(r, &call.prefix);
            for i in judge::instances(&r.attrs, &scope, &mut self.instances_left) {
                let address = format!("{}{}.{}{}", call.prefix, r.kind, r.name, i.suffix);
                if let Some(mut stage) = judge::stage(r, address, &scope, &i, default_tags.as_ref())
                {
                    stage.path = functions.clone();
                    // Only a traced stage gets a sampling verdict.
                    if matches!(stage.tracing, Tracing::On { .. }) {
                        stage.sampling.api_name = sampling::api_name(r, &apis, &scope);
                    }
                    report.stages.push(Found {
                        file: r.at.file.clone(),
                        stage,
                    });
                }
            }
        }
        for r in module
            .resources
            .iter()
            .filter(|r| r.kind == sampling::RULE_TYPE)
        {
            for i in judge::instances(&r.attrs, &scope, &mut self.instances_left) {
                let address = format!("{}{}.{}{}", call.prefix, r.kind, r.name, i.suffix);
                report.rules.push(sampling::rule(r, &address, &scope, &i));
            }
        }
        for c in &module.calls {
            if self.capped {
                return;
            }
            let key_path = if call.key_path.is_empty() {
                c.name.clone()
            } else {
                format!("{}.{}", call.key_path, c.name)
            };
            let Some(child) = self.child_dir(&module, c, &call.root, &key_path, report) else {
                continue;
            };
            if call.depth >= MAX_MODULE_DEPTH {
                report.warnings.push(format!(
                    "{}: module.{}: modules nested deeper than {MAX_MODULE_DEPTH} are not followed",
                    c.at.file, c.name
                ));
                continue;
            }
            for i in judge::instances(&c.attrs, &scope, &mut self.instances_left) {
                if i.capped {
                    // Past the cap nothing more is entered: say so once, as
                    // an UNKNOWN a reader cannot miss, not a silent pass.
                    self.capped = true;
                    report.stages.push(Found {
                        file: c.at.file.clone(),
                        stage: PlannedStage {
                            resource: format!("{}module.{}", call.prefix, c.name),
                            resource_type: "module".into(),
                            stage: None,
                            tracing: Tracing::Unknown(format!(
                                "this module call is {}; it and the rest of the run are not checked",
                                judge::run_cap()
                            )),
                            tags: BTreeMap::new(),
                            line: c.at.line,
                            note: None,
                            fix: Fix::TerraformStage,
                            path: Vec::new(),
                            sampling: Default::default(),
                        },
                    });
                    return;
                }
                let inputs = c
                    .attrs
                    .iter()
                    .filter(|(k, _)| !META.contains(&k.as_str()))
                    .map(|(k, e)| {
                        let v = match &i.unknown {
                            Some(why) => Err(why.clone()),
                            None => scope.eval_at(&i.at, e),
                        };
                        (k.clone(), v)
                    })
                    .collect();
                let next = Call {
                    root: call.root.clone(),
                    key_path: key_path.clone(),
                    prefix: format!("{}module.{}{}.", call.prefix, c.name, i.suffix),
                    inputs,
                    default_tags: default_tags.clone(),
                    depth: call.depth + 1,
                };
                self.instance(&child, next, report);
            }
        }
    }

    /// The directory a module call's source is in: a local path, or where
    /// `terraform init` put it (`.terraform/modules/modules.json`).
    fn child_dir(
        &mut self,
        module: &load::Module,
        c: &load::ModuleCall,
        root: &Path,
        key_path: &str,
        report: &mut Report,
    ) -> Option<PathBuf> {
        let outside = |report: &mut Report, what: &str| {
            report.warnings.push(format!(
                "{}: module.{}: {what} is outside the checked tree; its stages are not checked",
                c.at.file, c.name
            ));
        };
        if let Some(source) = local_source(c) {
            let dir = canonical(&module.dir.join(&source));
            if !self.bounds.iter().any(|b| dir.starts_with(b)) {
                outside(report, &format!("source {}", crate::model::quote(&source)));
                return None;
            }
            return Some(dir);
        }
        let installed = match self.installed.get(root) {
            Some(i) => Rc::clone(i),
            None => {
                let i = vars::installed(root, &self.cwd, self.max);
                if let Some(w) = &i.warning {
                    report.warnings.push(w.clone());
                }
                let i = Rc::new(i);
                self.installed.insert(root.to_owned(), Rc::clone(&i));
                i
            }
        };
        let found = installed.dir(key_path);
        // terraform init installs under the root's .terraform/modules; a
        // Dir anywhere else is not followed.
        if found
            .as_ref()
            .is_some_and(|d| !d.starts_with(canonical(root)))
        {
            outside(report, "the directory modules.json names for it");
            return None;
        }
        if found.is_none() {
            let source = match c.attrs.get("source") {
                Some(hcl::Expression::String(s)) => crate::model::quote(s),
                _ => "(not a literal)".into(),
            };
            report.warnings.push(format!(
                "{}: module.{}: source {source} is not local and terraform init has not installed it (no usable .terraform/modules/modules.json entry); its stages are not checked",
                c.at.file, c.name
            ));
        }
        found
    }
}

/// Module call arguments that are not inputs.
const META: [&str; 6] = [
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_modules;
