//! Terraform expressions evaluated where Terraform knows their value before
//! apply: literals, `var.*`, `local.*`, `each.*`, `count.index`,
//! `path.*`, operators, conditionals, `for` expressions and the common pure
//! functions below (hcl-rs's evaluator). A reference to a resource, a data
//! source or a module output is known only after apply: it fails here, and
//! the failure is the UNKNOWN's reason.

use hcl::eval::{Context, ErrorKind, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Expression, Map, Value};

/// A context with the functions below declared; cloned per evaluation
/// scope (hcl-rs's child contexts are private).
pub fn base() -> Context<'static> {
    let mut ctx = Context::new();
    let funcs: [(&str, hcl::eval::Func); 19] = [
        ("toset", toset),
        ("tolist", identity),
        ("tomap", identity),
        ("tostring", tostring),
        ("tobool", tobool),
        ("tonumber", identity),
        ("merge", merge),
        ("lookup", lookup),
        ("concat", concat),
        ("length", length),
        ("lower", |a| {
            text(&a, 0).map(|s| Value::from(s.to_lowercase()))
        }),
        ("upper", |a| {
            text(&a, 0).map(|s| Value::from(s.to_uppercase()))
        }),
        ("contains", contains),
        ("keys", keys),
        ("values", values),
        ("coalesce", coalesce),
        ("join", join),
        ("distinct", distinct),
        ("flatten", flatten),
    ];
    for (name, f) in funcs {
        ctx.declare_func(
            name,
            FuncDef::builder().variadic_param(ParamType::Any).build(f),
        );
    }
    ctx
}

/// Why an expression has no value before apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A key missing from `var`, `local` or `each.value`: the caller knows
    /// whether it is a variable without a value.
    Key(String),
    Text(String),
}

impl Why {
    pub fn text(self) -> String {
        match self {
            Why::Key(key) => format!("it refers to {key}, which has no value before apply"),
            Why::Text(t) => t,
        }
    }
}

/// The value of `expr`, or why it is not known before apply.
pub fn eval(expr: &Expression, ctx: &Context<'_>) -> Result<Value, Why> {
    expr.evaluate(ctx).map_err(|e| match e.kind() {
        ErrorKind::UndefinedVar(name) => {
            Why::Text(format!("it refers to {name}, known only after apply"))
        }
        ErrorKind::NoSuchKey(key) => Why::Key(key.clone()),
        ErrorKind::UndefinedFunc(f) => {
            Why::Text(format!("it calls {f}(), which check does not evaluate"))
        }
        other => Why::Text(other.to_string()),
    })
}

/// Terraform's conversion to bool: `true`/`false` and their strings.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
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

fn arg(a: &FuncArgs, i: usize) -> Result<&Value, String> {
    a.get(i)
        .ok_or_else(|| format!("argument {} is missing", i + 1))
}

fn text(a: &FuncArgs, i: usize) -> Result<String, String> {
    as_text(arg(a, i)?).ok_or_else(|| format!("argument {} is not a string", i + 1))
}

fn list(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array().ok_or_else(|| "a list is expected".to_owned())
}

fn identity(a: FuncArgs) -> Result<Value, String> {
    arg(&a, 0).cloned()
}

/// Sets of strings iterate in lexical order in Terraform.
fn toset(a: FuncArgs) -> Result<Value, String> {
    let mut items = list(arg(&a, 0)?)?.clone();
    if items.iter().all(|v| v.is_string()) {
        items.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
    }
    items.dedup();
    Ok(Value::Array(items))
}

fn tostring(a: FuncArgs) -> Result<Value, String> {
    text(&a, 0).map(Value::from)
}

fn tobool(a: FuncArgs) -> Result<Value, String> {
    as_bool(arg(&a, 0)?)
        .map(Value::Bool)
        .ok_or_else(|| "not a bool".into())
}

fn merge(a: FuncArgs) -> Result<Value, String> {
    let mut out = Map::new();
    for v in a.iter() {
        match v {
            Value::Object(o) => out.extend(o.clone()),
            Value::Null => {}
            _ => return Err("merge takes maps".into()),
        }
    }
    Ok(Value::Object(out))
}

fn lookup(a: FuncArgs) -> Result<Value, String> {
    let key = text(&a, 1)?;
    match (arg(&a, 0)?, a.get(2)) {
        (Value::Object(o), default) => o
            .get(&key)
            .or(default)
            .cloned()
            .ok_or_else(|| format!("no key {key}")),
        _ => Err("lookup takes a map".into()),
    }
}

fn concat(a: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for v in a.iter() {
        out.extend(list(v)?.iter().cloned());
    }
    Ok(Value::Array(out))
}

fn length(a: FuncArgs) -> Result<Value, String> {
    let n = match arg(&a, 0)? {
        Value::Array(x) => x.len(),
        Value::Object(o) => o.len(),
        Value::String(s) => s.chars().count(),
        _ => return Err("length takes a collection or a string".into()),
    };
    Ok(Value::from(n as u64))
}

fn contains(a: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(list(arg(&a, 0)?)?.contains(arg(&a, 1)?)))
}

fn sorted(a: &FuncArgs) -> Result<Vec<(&String, &Value)>, String> {
    let Value::Object(o) = arg(a, 0)? else {
        return Err("a map is expected".into());
    };
    let mut entries: Vec<_> = o.iter().collect();
    entries.sort_by(|x, y| x.0.cmp(y.0));
    Ok(entries)
}

fn keys(a: FuncArgs) -> Result<Value, String> {
    Ok(Value::Array(
        sorted(&a)?
            .into_iter()
            .map(|(k, _)| Value::from(k.as_str()))
            .collect(),
    ))
}

fn values(a: FuncArgs) -> Result<Value, String> {
    Ok(Value::Array(
        sorted(&a)?.into_iter().map(|(_, v)| v.clone()).collect(),
    ))
}

fn coalesce(a: FuncArgs) -> Result<Value, String> {
    a.iter()
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "no non-null argument".into())
}

fn join(a: FuncArgs) -> Result<Value, String> {
    let sep = text(&a, 0)?;
    let mut parts = Vec::new();
    for v in a.iter().skip(1) {
        for item in list(v)? {
            parts.push(as_text(item).ok_or("join takes strings")?);
        }
    }
    Ok(Value::from(parts.join(&sep)))
}

fn distinct(a: FuncArgs) -> Result<Value, String> {
    let mut out: Vec<Value> = Vec::new();
    for v in list(arg(&a, 0)?)? {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::Array(out))
}

fn flatten(a: FuncArgs) -> Result<Value, String> {
    fn go(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| go(i, out)),
            other => out.push(other.clone()),
        }
    }
    let mut out = Vec::new();
    go(arg(&a, 0)?, &mut out);
    Ok(Value::Array(out))
}
