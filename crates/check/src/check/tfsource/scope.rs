//! What the evaluations of one module instance see: variables (the
//! inputs passed, else defaults), locals (evaluated when first needed, in
//! dependency order, each once), `path`, `terraform`, and an instance's
//! `each` or `count`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::rc::Rc;

use hcl::{Map, Value};

use super::super::files;
use super::{eval, load, Call, Input};

/// Names bound in one instance of a block: `each` (for_each) or `count`
/// (count). Only these: the module's own scope is shared, never copied.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    pub each: Option<(Rc<Value>, Rc<Value>)>,
    pub count: Option<u64>,
}

/// What the evaluations of one module instance can see: its variables, its
/// locals (evaluated when first needed, in dependency order, each once),
/// `path` and `terraform`, and the run's evaluation budget.
pub struct Scope {
    module: Rc<load::Module>,
    vars: BTreeMap<String, Result<eval::Named, eval::Fail>>,
    /// Locals evaluated so far: the value, or the first cause of failure.
    locals: RefCell<HashMap<String, Result<eval::Named, Rc<str>>>>,
    path: Map<String, Value>,
    budget: Rc<eval::Budget>,
}

/// A scope seen from one instance.
struct View<'a> {
    scope: &'a Scope,
    at: &'a Bindings,
}

impl eval::Names for View<'_> {
    fn get(&self, root: &str, attr: &str) -> Option<Result<eval::Named, eval::Fail>> {
        let named = |v: &Rc<Value>| {
            Some(Ok(eval::Named {
                value: Rc::clone(v),
                sensitive: false,
            }))
        };
        match (root, &self.at.each, self.at.count) {
            ("each", Some((k, _)), _) if attr == "key" => return named(k),
            ("each", Some((_, v)), _) if attr == "value" => return named(v),
            ("count", _, Some(i)) if attr == "index" => return named(&Rc::new(Value::from(i))),
            _ => {}
        }
        self.scope.get(root, attr)
    }
}

impl eval::Names for Scope {
    fn get(&self, root: &str, attr: &str) -> Option<Result<eval::Named, eval::Fail>> {
        Some(match root {
            "var" => match self.vars.get(attr) {
                Some(v) => v.clone(),
                None => Err(eval::Fail::new(format!(
                    "it refers to var.{attr}, which is not declared"
                ))),
            },
            "local" => match self.locals.borrow().get(attr) {
                Some(Ok(v)) => Ok(v.clone()),
                Some(Err(root)) => Err(eval::Fail {
                    text: format!(
                        "it refers to local.{attr}, which is not known before apply: {root}"
                    ),
                    root: Rc::clone(root),
                }),
                None if self.module.locals.contains_key(attr) => Err(eval::Fail::new(format!(
                    "it refers to local.{attr}, which refers back to itself"
                ))),
                None => Err(eval::Fail::new(format!(
                    "it refers to local.{attr}, which is not declared{}",
                    self.module.unread_note()
                ))),
            },
            "path" | "terraform" => {
                let v = if root == "path" {
                    self.path.get(attr).cloned()
                } else {
                    (attr == "workspace").then(|| Value::from("default"))
                };
                match v {
                    Some(v) => Ok(eval::Named {
                        value: Rc::new(v),
                        sensitive: false,
                    }),
                    None => Err(eval::Fail::new(format!(
                        "it refers to {root}.{attr}, which check does not know"
                    ))),
                }
            }
            _ => return None,
        })
    }
}

impl Scope {
    /// The value of `expr`, or why it is not known before apply.
    pub fn eval(&self, expr: &hcl::Expression) -> Result<Value, String> {
        self.eval_at(&Bindings::default(), expr).map(|(v, _)| v)
    }

    /// The value of `expr` in one instance, and whether it derives from a
    /// sensitive variable.
    pub fn eval_at(
        &self,
        at: &Bindings,
        expr: &hcl::Expression,
    ) -> Result<eval::Evaluated, String> {
        for (root, name) in eval::references(expr) {
            if root == "local" {
                self.ensure_local(&name);
            }
        }
        eval::eval(expr, &View { scope: self, at }, &self.budget).map_err(|f| f.text)
    }

    /// Evaluates `name` and the locals it needs, dependencies first. No
    /// recursion: a chain of thousands of locals is one pass, in any order
    /// it is written; a cycle fails where it closes.
    fn ensure_local(&self, name: &str) {
        let mut todo: Vec<(String, bool)> = vec![(name.to_owned(), false)];
        let mut open: HashSet<String> = HashSet::new();
        while let Some((n, ready)) = todo.pop() {
            if self.locals.borrow().contains_key(&n) {
                continue;
            }
            let Some(expr) = self.module.locals.get(&n) else {
                continue;
            };
            if ready {
                let none = Bindings::default();
                let got = eval::eval(
                    expr,
                    &View {
                        scope: self,
                        at: &none,
                    },
                    &self.budget,
                );
                let got = got
                    .map(|(v, sensitive)| eval::Named {
                        value: Rc::new(v),
                        sensitive,
                    })
                    .map_err(|f| f.root);
                self.locals.borrow_mut().insert(n.clone(), got);
                open.remove(&n);
                continue;
            }
            if !open.insert(n.clone()) {
                continue;
            }
            todo.push((n, true));
            for (root, dep) in eval::references(expr) {
                if root == "local"
                    && !open.contains(&dep)
                    && !self.locals.borrow().contains_key(&dep)
                {
                    todo.push((dep, false));
                }
            }
        }
    }
}

/// The scope of one module instance: its variables (the inputs passed,
/// else their defaults), `path`, and its locals, evaluated when needed.
pub(super) fn scope(
    module: &Rc<load::Module>,
    call: &Call,
    cwd: &Path,
    budget: &Rc<eval::Budget>,
) -> Scope {
    let mut vars = BTreeMap::new();
    for (name, var) in &module.variables {
        let value: Input = match call.inputs.get(name) {
            Some(v) => v.clone(),
            None => match &var.default {
                Some(d) => eval::eval(d, &eval::NoNames, budget)
                    .map_err(|f| format!("whose default is not a literal: {}", f.text)),
                None if call.depth == 0 => Err(
                    "which has no default, tfvars value or --var-file value (terraform would prompt)"
                        .into(),
                ),
                None => Err("which the module call does not pass".into()),
            },
        };
        let value = match value {
            Ok((v, sensitive)) => Ok(eval::Named {
                value: Rc::new(v),
                sensitive: sensitive || var.sensitive,
            }),
            Err(why) if why.starts_with("which ") || why.starts_with("whose ") => {
                Err(eval::Fail::new(format!("it refers to var.{name}, {why}")))
            }
            Err(why) => Err(eval::Fail {
                text: format!("it refers to var.{name}, which is not known before apply: {why}"),
                root: Rc::from(why.as_str()),
            }),
        };
        vars.insert(name.clone(), value);
    }
    let path: Map<String, Value> = [
        (
            "module".to_owned(),
            Value::from(files::shown(&module.dir, cwd)),
        ),
        (
            "root".to_owned(),
            Value::from(files::shown(&call.root, cwd)),
        ),
        ("cwd".to_owned(), Value::from(cwd.display().to_string())),
    ]
    .into_iter()
    .collect();
    Scope {
        module: Rc::clone(module),
        vars,
        locals: RefCell::new(HashMap::new()),
        path,
        budget: Rc::clone(budget),
    }
}
