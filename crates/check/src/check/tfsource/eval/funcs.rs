//! The pure functions check evaluates, by Terraform's names. Each returns
//! a new value; the evaluator charges for its size.

use std::collections::HashSet;

use hcl::{Map, Value};

use super::{as_bool, as_number, as_text};

type Func = fn(&[Value]) -> Result<Value, String>;

/// The pure functions check evaluates (Terraform's names).
pub(super) fn function(name: &str) -> Option<Func> {
    Some(match name {
        "toset" => toset,
        "tolist" | "tomap" => identity,
        "tostring" => |a| text(a, 0).map(Value::from),
        "tobool" => |a| {
            as_bool(arg(a, 0)?)
                .map(Value::Bool)
                .ok_or_else(|| "the argument is not a bool".into())
        },
        "tonumber" => |a| {
            as_number(arg(a, 0)?)
                .and_then(hcl::Number::from_f64)
                .map(|n| match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
                    _ => Value::Number(n),
                })
                .ok_or_else(|| "the argument is not a number".into())
        },
        "merge" => merge,
        "lookup" => lookup,
        "concat" => concat,
        "length" => length,
        "lower" => |a| text(a, 0).map(|s| Value::from(s.to_lowercase())),
        "upper" => |a| text(a, 0).map(|s| Value::from(s.to_uppercase())),
        "contains" => |a| Ok(Value::Bool(list(arg(a, 0)?)?.contains(arg(a, 1)?))),
        "keys" => keys,
        "values" => values,
        "coalesce" => coalesce,
        "join" => join,
        "distinct" => distinct,
        "flatten" => flatten,
        _ => return None,
    })
}

fn arg(a: &[Value], i: usize) -> Result<&Value, String> {
    a.get(i)
        .ok_or_else(|| format!("argument {} is missing", i + 1))
}

fn text(a: &[Value], i: usize) -> Result<String, String> {
    as_text(arg(a, i)?).ok_or_else(|| format!("argument {} is not a string", i + 1))
}

fn list(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array().ok_or_else(|| "a list is expected".to_owned())
}

fn identity(a: &[Value]) -> Result<Value, String> {
    arg(a, 0).cloned()
}

/// A value's identity for sets and `distinct` (hcl's Value has no Hash).
fn identity_key(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Sets of strings iterate in lexical order in Terraform.
fn toset(a: &[Value]) -> Result<Value, String> {
    let mut items = distinct_items(list(arg(a, 0)?)?);
    if items.iter().all(|v| v.is_string()) {
        items.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
    }
    Ok(Value::Array(items))
}

fn merge(a: &[Value]) -> Result<Value, String> {
    let mut out = Map::new();
    for v in a {
        match v {
            Value::Object(o) => out.extend(o.clone()),
            Value::Null => {}
            _ => return Err("merge takes maps".into()),
        }
    }
    Ok(Value::Object(out))
}

fn lookup(a: &[Value]) -> Result<Value, String> {
    let key = text(a, 1)?;
    match (arg(a, 0)?, a.get(2)) {
        (Value::Object(o), default) => o
            .get(&key)
            .or(default)
            .cloned()
            .ok_or_else(|| "the key is not in the map and there is no default".into()),
        _ => Err("lookup takes a map".into()),
    }
}

fn concat(a: &[Value]) -> Result<Value, String> {
    let mut out = Vec::new();
    for v in a {
        out.extend(list(v)?.iter().cloned());
    }
    Ok(Value::Array(out))
}

fn length(a: &[Value]) -> Result<Value, String> {
    let n = match arg(a, 0)? {
        Value::Array(x) => x.len(),
        Value::Object(o) => o.len(),
        Value::String(s) => s.chars().count(),
        _ => return Err("length takes a collection or a string".into()),
    };
    Ok(Value::from(n as u64))
}

fn sorted(a: &[Value]) -> Result<Vec<(&String, &Value)>, String> {
    let Value::Object(o) = arg(a, 0)? else {
        return Err("a map is expected".into());
    };
    let mut entries: Vec<_> = o.iter().collect();
    entries.sort_by(|x, y| x.0.cmp(y.0));
    Ok(entries)
}

fn keys(a: &[Value]) -> Result<Value, String> {
    Ok(Value::Array(
        sorted(a)?
            .into_iter()
            .map(|(k, _)| Value::from(k.as_str()))
            .collect(),
    ))
}

fn values(a: &[Value]) -> Result<Value, String> {
    Ok(Value::Array(
        sorted(a)?.into_iter().map(|(_, v)| v.clone()).collect(),
    ))
}

fn coalesce(a: &[Value]) -> Result<Value, String> {
    a.iter()
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "no non-null argument".into())
}

fn join(a: &[Value]) -> Result<Value, String> {
    let sep = text(a, 0)?;
    let mut parts = Vec::new();
    for v in a.iter().skip(1) {
        for item in list(v)? {
            parts.push(as_text(item).ok_or("join takes strings")?);
        }
    }
    Ok(Value::from(parts.join(&sep)))
}

/// First occurrences in order, by hash: linear, not quadratic.
fn distinct_items(items: &[Value]) -> Vec<Value> {
    let mut seen = HashSet::new();
    items
        .iter()
        .filter(|v| seen.insert(identity_key(v)))
        .cloned()
        .collect()
}

fn distinct(a: &[Value]) -> Result<Value, String> {
    Ok(Value::Array(distinct_items(list(arg(a, 0)?)?)))
}

fn flatten(a: &[Value]) -> Result<Value, String> {
    let mut out = Vec::new();
    let mut todo: Vec<&Value> = vec![arg(a, 0)?];
    while let Some(v) = todo.pop() {
        match v {
            Value::Array(items) => todo.extend(items.iter().rev()),
            other => out.push(other.clone()),
        }
    }
    Ok(Value::Array(out))
}
