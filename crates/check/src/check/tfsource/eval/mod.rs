//! Terraform expressions evaluated where Terraform knows their value before
//! apply: literals, `var.*`, `local.*`, `each.*`, `count.index`, `path.*`,
//! operators, conditionals, `for` expressions, templates and the common
//! pure functions below. A reference to a resource, a data source or a
//! module output is known only after apply: it fails here, and the failure
//! is the UNKNOWN's reason.
//!
//! The input is a pull request's: every evaluation is bounded. Each value
//! built or copied costs steps (one per element, one per 32 bytes of text);
//! one evaluation may spend [`EVAL_STEPS`], a whole run [`RUN_STEPS`]
//! (shared through [`Budget`]). Past either, the value is unknown and the
//! reason names the bound. So time and memory stay bounded whatever the
//! input: a step is at most a few dozen bytes.
//!
//! Messages name variables, locals and functions, never a value: a value
//! may come from a variables file outside the pull request's reach.

use std::cell::Cell;
use std::rc::Rc;

use hcl::{Expression, Value};

mod ev;
mod funcs;
mod template;
mod visit;

pub use visit::references;

/// Steps one evaluation may take: far above any real configuration (a
/// stage's attributes take tens), far below what would stall a CI runner.
pub const EVAL_STEPS: u64 = 1_000_000;
/// Steps one run may take over all its evaluations: 0.9 s and 41 MiB peak
/// when all are spent (release build, 25 locals at their value budget).
pub const RUN_STEPS: u64 = 20_000_000;
/// Longest string an evaluation builds (Terraform has no limit; a stage
/// name has 128 characters).
pub const MAX_TEXT: usize = 1 << 20;

/// The steps left for the whole run, shared by every evaluation.
#[derive(Debug)]
pub struct Budget(Cell<u64>);

impl Default for Budget {
    fn default() -> Self {
        Budget(Cell::new(RUN_STEPS))
    }
}

impl Budget {
    #[cfg(test)]
    pub fn with(steps: u64) -> Self {
        Budget(Cell::new(steps))
    }
}

/// Why an expression has no value before apply. `root` is the first cause
/// (what a chain of locals reports, so a message never grows with the
/// chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    pub text: String,
    pub root: Rc<str>,
}

impl Fail {
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        Fail {
            root: Rc::from(text.as_str()),
            text,
        }
    }
}

/// A named value (`var.x`, `local.y`, `each.value`) and whether it derives
/// from a `sensitive` variable.
#[derive(Debug, Clone)]
pub struct Named {
    pub value: Rc<Value>,
    pub sensitive: bool,
}

/// What the names of a scope (`var`, `local`, `each`, `count`, `path`,
/// `terraform`) hold. `None`: not a name of this scope (a resource, a data
/// source, a module output: known only after apply).
pub trait Names {
    fn get(&self, root: &str, attr: &str) -> Option<Result<Named, Fail>>;
}

/// No names: what a variables file or a default may use.
pub struct NoNames;

impl Names for NoNames {
    fn get(&self, _: &str, _: &str) -> Option<Result<Named, Fail>> {
        None
    }
}

/// An evaluation step's result.
pub(super) type R<T> = Result<T, Fail>;

/// A value and whether it derives from a sensitive variable.
pub type Evaluated = (Value, bool);

/// Evaluates `expr` with `names`, within one evaluation's steps and what
/// is left of the run's.
pub fn eval(expr: &Expression, names: &dyn Names, budget: &Budget) -> Result<Evaluated, Fail> {
    let mut ev = ev::Ev {
        names,
        bound: Vec::new(),
        steps: EVAL_STEPS,
        budget,
        sensitive: false,
    };
    let v = ev.expr(expr)?;
    Ok((v, ev.sensitive))
}

pub(super) fn text_weight(s: &str) -> u64 {
    (s.len() / 32) as u64
}

/// A value's cost to copy: one per node, one per 32 bytes of text;
/// counting stops past `limit`.
pub fn weight(v: &Value, limit: u64) -> u64 {
    let mut total = 0u64;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        total += 1;
        match v {
            Value::String(s) => total += text_weight(s),
            Value::Array(items) => todo.extend(items.iter()),
            Value::Object(o) => {
                total += o.keys().map(|k| text_weight(k)).sum::<u64>();
                todo.extend(o.values());
            }
            _ => {}
        }
        if total > limit {
            break;
        }
    }
    total
}

pub(super) fn key<'v>(v: &'v Value, k: &str) -> R<&'v Value> {
    match v {
        Value::Object(o) => o
            .get(k)
            .ok_or_else(|| Fail::new(format!("it refers to {k}, which has no value before apply"))),
        Value::Null => Err(Fail::new(format!("it reads {k} of a null value"))),
        _ => Err(Fail::new(format!(
            "it reads {k} of a value that is not an object"
        ))),
    }
}

pub(super) fn index(v: &Value, i: u64) -> R<&Value> {
    match v {
        Value::Array(items) => items
            .get(i as usize)
            .ok_or_else(|| Fail::new("an index is past the end of its list")),
        _ => Err(Fail::new("an index reads a value that is not a list")),
    }
}

/// Terraform's conversion to bool: `true`, `false` and the strings
/// `"true"`, `"false"`, `"1"`, `"0"` (cty's string conversion).
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" || s == "1" => Some(true),
        Value::String(s) if s == "false" || s == "0" => Some(false),
        _ => None,
    }
}

pub(super) fn truth(v: &Value) -> R<bool> {
    as_bool(v).ok_or_else(|| Fail::new("a condition is not a bool"))
}

/// A string, number or bool as the string Terraform converts it to.
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Terraform's conversion to number: a number, or a string that is one.
pub fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

pub(super) fn num(v: &Value) -> R<f64> {
    as_number(v).ok_or_else(|| Fail::new("an arithmetic operand is not a number"))
}

pub(super) fn number(f: f64) -> R<Value> {
    hcl::Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| Fail::new("an arithmetic result is not a finite number"))
}

/// Whole numbers stay whole (`count.index + 1` is `1`, not `1.0`).
pub(super) fn arith(
    l: &Value,
    r: &Value,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> R<Value> {
    let whole = |v: &Value| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    if let (Some(a), Some(b)) = (whole(l), whole(r)) {
        if let Some(n) = int(a, b) {
            return Ok(Value::from(n));
        }
    }
    number(float(num(l)?, num(r)?))
}

/// Every sub-expression of `e`, `e` first, templates included (an
/// interpolation inside a string is an expression too). Iterative: a
/// deeply nested expression does not deepen the stack.
#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> Result<Value, Fail> {
        let e: Expression = src.parse().unwrap();
        eval(&e, &NoNames, &Budget::default()).map(|(v, _)| v)
    }

    #[test]
    fn expressions_evaluate_as_terraform_does() {
        assert_eq!(run("1 + 2 * 3").unwrap(), Value::from(7));
        assert_eq!(run("\"a-${1 + 1}\"").unwrap(), Value::from("a-2"));
        assert_eq!(
            run("[for x in [1, 2] : x * 2]").unwrap(),
            Value::Array(vec![Value::from(2), Value::from(4)])
        );
        assert_eq!(
            run("{ for k, v in { a = 1 } : k => v }")
                .unwrap()
                .as_object()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(run("true ? \"y\" : \"n\"").unwrap(), Value::from("y"));
        assert_eq!(
            run("distinct([1, 2, 1])").unwrap(),
            Value::Array(vec![Value::from(1), Value::from(2)])
        );
        assert_eq!(
            run("flatten([[1], [[2]], 3])").unwrap(),
            Value::Array(vec![Value::from(1), Value::from(2), Value::from(3)])
        );
        assert_eq!(
            run("[{ a = 1 }, { a = 2 }][*].a").unwrap(),
            Value::Array(vec![Value::from(1), Value::from(2)])
        );
        assert_eq!(
            run("\"%{ for x in [\"a\", \"b\"] }${x}%{ endfor }\"").unwrap(),
            Value::from("ab")
        );
        assert_eq!(run("tonumber(\"2\")").unwrap(), Value::from(2));
        assert!(run("aws_lambda_function.f.arn")
            .unwrap_err()
            .text
            .contains("aws_lambda_function.f"));
        assert!(run("file(\"x\")").unwrap_err().text.contains("file()"));
    }

    #[test]
    fn nested_loops_stop_at_the_step_budget_and_say_so() {
        let l = "[0,1,2,3,4,5,6,7,8,9]";
        let src = format!(
            "[for a in {l} : [for b in {l} : [for c in {l} : [for d in {l} : [for e in {l} : [for f in {l} : [for g in {l} : 1]]]]]]]"
        );
        let started = std::time::Instant::now();
        let why = run(&src).unwrap_err();
        assert!(
            why.text.contains("steps check spends on one value"),
            "{why:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // The run's budget is shared: once spent, every evaluation says so.
        let budget = Budget::with(100);
        let e: Expression = src.parse().unwrap();
        let why = eval(&e, &NoNames, &budget).unwrap_err();
        assert!(why.text.contains("for one run"), "{why:?}");
        let small: Expression = "1".parse().unwrap();
        assert!(eval(&small, &NoNames, &budget).is_err());
    }

    #[test]
    fn references_are_found_inside_templates() {
        let e: Expression = "\"arn:${aws_lambda_function.f.arn}/x-%{ if local.on }y%{ endif }\""
            .parse()
            .unwrap();
        let refs = references(&e);
        assert!(
            refs.contains(&("aws_lambda_function".into(), "f".into())),
            "{refs:?}"
        );
        assert!(refs.contains(&("local".into(), "on".into())), "{refs:?}");
    }
}
