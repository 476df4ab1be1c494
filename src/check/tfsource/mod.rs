//! Terraform source (`.tf`, `.tf.json`) without a plan: what pre-commit and
//! pull-request checks have, with no credentials to plan. Each root module
//! is evaluated as `terraform plan` would see it before apply: variables
//! from defaults, `terraform.tfvars`, `*.auto.tfvars` and `--var-file`;
//! locals; `count` / `for_each` expanded into one stage per instance; local
//! child modules (and, after `terraform init`, registry and git modules)
//! entered with the inputs the caller passes. Addresses are the plan's, so a
//! stage has one identity from source and from plan. Whatever depends on a
//! value known only after apply is UNKNOWN, with the reason.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use hcl::eval::Context;
use hcl::{Map, Value};

use super::files::{self, FileError};
use super::{PlannedStage, SkippedPath};

mod eval;
mod judge;
mod load;
mod path;
mod roots;
mod vars;

pub use load::is_source;

/// Whether `name` is a Terraform variables file (`.tfvars`, `.tfvars.json`).
pub fn is_vars(name: &str) -> bool {
    name.ends_with(".tfvars") || name.ends_with(".tfvars.json")
}

/// Nested module calls followed; deeper (or a cycle through `../`) stops
/// with a warning.
const MAX_MODULE_DEPTH: usize = 16;

/// Module instances evaluated in one run: a module that calls itself with
/// a large `count` would otherwise multiply at every level.
const MAX_MODULE_INSTANCES: usize = 10_000;

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
    let mut loader = Loader {
        cache: HashMap::new(),
        cwd: cwd.to_owned(),
        max: opts.max_file_size,
        instances_left: MAX_MODULE_INSTANCES,
    };
    let mut loaded: Vec<(PathBuf, bool)> = Vec::new();
    for (dir, strict) in dirs {
        let key = canonical(dir);
        if loaded.iter().any(|(d, _)| *d == key) {
            continue;
        }
        match loader.get(&key) {
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
        let inputs = match vars::root_values(root, &opts.var_files, &loader.cwd, loader.max) {
            Ok(v) => v,
            Err(e) if *strict || matches!(e, vars::VarsError::Named(_)) => return Err(e.into()),
            Err(e) => {
                report.skipped.push(FileError::from(e).skipped());
                continue;
            }
        };
        let inputs = inputs.into_iter().map(|(k, v)| (k, Ok(v))).collect();
        let at = Call {
            root: root.clone(),
            key_path: String::new(),
            prefix: String::new(),
            inputs,
            default_tags: None,
            depth: 0,
        };
        loader.instance(root, at, &mut report);
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

/// One module instance to evaluate.
struct Call {
    root: PathBuf,
    /// The call path as `modules.json` keys it: `api.child`.
    key_path: String,
    /// The address prefix: `module.api["x"].`.
    prefix: String,
    /// The inputs the caller passes (or, for a root, the tfvars).
    inputs: BTreeMap<String, Result<Value, String>>,
    default_tags: Option<Result<Value, String>>,
    depth: usize,
}

/// What an evaluation can see, and why what it cannot see is unknown.
pub struct Scope {
    pub ctx: Context<'static>,
    /// `var.x` / `local.y` without a value before apply, and why.
    pub unknown: BTreeMap<String, String>,
}

impl Scope {
    /// The value of `expr`, or why it is not known before apply.
    pub fn eval(&self, expr: &hcl::Expression) -> Result<Value, String> {
        self.eval_in(&self.ctx, expr)
    }

    pub fn eval_in(&self, ctx: &Context<'_>, expr: &hcl::Expression) -> Result<Value, String> {
        eval::eval(expr, ctx).map_err(|why| match why {
            // A missing key is a variable or local without a known value:
            // say which, and why it has none.
            eval::Why::Key(key) => ["var", "local"]
                .iter()
                .map(|kind| format!("{kind}.{key}"))
                .find_map(|name| {
                    let reason = self.unknown.get(&name)?;
                    Some(format!("it refers to {name}, {reason}"))
                })
                .unwrap_or_else(|| eval::Why::Key(key).text()),
            other => other.text(),
        })
    }
}

struct Loader {
    /// Each module directory, read once (shared by all its instances).
    cache: HashMap<PathBuf, Rc<load::Module>>,
    cwd: PathBuf,
    max: u64,
    /// Module instances still to evaluate in this run (see
    /// `MAX_MODULE_INSTANCES`).
    instances_left: usize,
}

impl Loader {
    fn get(&mut self, dir: &Path) -> Result<&Rc<load::Module>, FileError> {
        if !self.cache.contains_key(dir) {
            let m = load::module(dir, &self.cwd, self.max)?;
            self.cache.insert(dir.to_owned(), Rc::new(m));
        }
        Ok(&self.cache[dir])
    }

    fn instance(&mut self, dir: &Path, call: Call, report: &mut Report) {
        if self.instances_left == 0 {
            return;
        }
        self.instances_left -= 1;
        if self.instances_left == 0 {
            report.warnings.push(format!(
                "{}: more than {MAX_MODULE_INSTANCES} module instances; the rest are not checked",
                call.root.display()
            ));
        }
        let module = match self.get(dir) {
            Ok(m) => Rc::clone(m),
            Err(e) => {
                report.skipped.push(e.skipped());
                return;
            }
        };
        let scope = scope(&module, &call, &self.cwd);
        let default_tags = match &module.default_tags {
            Some(expr) => Some(scope.eval(expr)),
            None => call.default_tags.clone(),
        };
        let paths = path::Paths::new(&module, &scope);
        for r in module
            .resources
            .iter()
            .filter(|r| load::JUDGED.contains(&r.kind.as_str()))
        {
            let functions = paths.behind(r, &call.prefix);
            for (suffix, ctx, unknown) in judge::instances(&r.attrs, &scope) {
                let address = format!("{}{}.{}{suffix}", call.prefix, r.kind, r.name);
                if let Some(mut stage) =
                    judge::stage(r, address, &scope, &ctx, unknown, default_tags.as_ref())
                {
                    stage.path = functions.clone();
                    report.stages.push(Found {
                        file: r.at.file.clone(),
                        stage,
                    });
                }
            }
        }
        for c in &module.calls {
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
            for (suffix, ctx, unknown) in judge::instances(&c.attrs, &scope) {
                let inputs = c
                    .attrs
                    .iter()
                    .filter(|(k, _)| !META.contains(&k.as_str()))
                    .map(|(k, e)| {
                        let v = match &unknown {
                            Some(why) => Err(why.clone()),
                            None => scope.eval_in(&ctx, e),
                        };
                        (k.clone(), v)
                    })
                    .collect();
                let next = Call {
                    root: call.root.clone(),
                    key_path: key_path.clone(),
                    prefix: format!("{}module.{}{suffix}.", call.prefix, c.name),
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
        if let Some(source) = local_source(c) {
            return Some(canonical(&module.dir.join(source)));
        }
        let installed = vars::installed_module(root, key_path);
        if installed.is_none() {
            let source = match c.attrs.get("source") {
                Some(hcl::Expression::String(s)) => crate::model::quote(s),
                _ => "(not a literal)".into(),
            };
            report.warnings.push(format!(
                "{}: module.{}: source {source} is not local and terraform init has not run (no .terraform/modules/modules.json); its stages are not checked",
                c.at.file, c.name
            ));
        }
        installed
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

/// The variables and locals of one module instance.
fn scope(module: &load::Module, call: &Call, cwd: &Path) -> Scope {
    let mut unknown = BTreeMap::new();
    let base = eval::base();
    let mut var = Map::new();
    for (name, default) in &module.variables {
        let value = match call.inputs.get(name) {
            Some(v) => v.clone(),
            None => match default {
                Some(d) => eval::eval(d, &base).map_err(eval::Why::text),
                None if call.depth == 0 => Err(
                    "which has no default, tfvars value or --var-file value (terraform would prompt)"
                        .into(),
                ),
                None => Err("which the module call does not pass".into()),
            },
        };
        match value {
            Ok(v) => {
                var.insert(name.clone(), v);
            }
            Err(why) => {
                unknown.insert(format!("var.{name}"), why);
            }
        }
    }
    let mut ctx = base;
    ctx.declare_var("var", Value::Object(var));
    let dir = files::shown(&module.dir, cwd);
    let path: Map<String, Value> = [
        ("module".to_owned(), Value::from(dir.clone())),
        (
            "root".to_owned(),
            Value::from(files::shown(&call.root, cwd)),
        ),
        ("cwd".to_owned(), Value::from(cwd.display().to_string())),
    ]
    .into_iter()
    .collect();
    ctx.declare_var("path", Value::Object(path));
    let workspace: Map<String, Value> = [("workspace".to_owned(), Value::from("default"))]
        .into_iter()
        .collect();
    ctx.declare_var("terraform", Value::Object(workspace));
    // Locals may refer to each other in any order: evaluate until no more
    // can be (each pass resolves at least one, or stops).
    let mut local = Map::new();
    let mut pending: Vec<(&String, &hcl::Expression)> = module.locals.iter().collect();
    let mut reasons = BTreeMap::new();
    loop {
        ctx.declare_var("local", Value::Object(local.clone()));
        let before = pending.len();
        pending.retain(|(name, expr)| match eval::eval(expr, &ctx) {
            Ok(v) => {
                local.insert((*name).clone(), v);
                false
            }
            Err(why) => {
                reasons.insert(format!("local.{name}"), why.text());
                true
            }
        });
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    for (name, _) in pending {
        let key = format!("local.{name}");
        let why = reasons.remove(&key).unwrap_or_default();
        unknown.insert(key, format!("which is not known before apply: {why}"));
    }
    ctx.declare_var("local", Value::Object(local));
    Scope { ctx, unknown }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_modules;
