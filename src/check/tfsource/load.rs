//! One Terraform module directory read into what `check` needs of it: its
//! variables, locals, module calls, the judged resources and the aws
//! provider's `default_tags`. `.tf` files through hcl-edit (which keeps each
//! block's position), `.tf.json` through serde_json, mapped to the same
//! expressions (Terraform's JSON syntax: strings are templates).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl::edit::structure::{Block, Body};
use hcl::edit::Span;
use hcl::Expression;
use serde_json::Value as Json;

use super::super::files::{self, FileError};

/// The resource types `check` judges (as in plans).
pub const JUDGED: [&str; 3] = [
    "aws_api_gateway_stage",
    "awscc_apigateway_stage",
    "aws_api_gateway_deployment",
];

/// The resource types read for the trace path (`check::path`): what a
/// stage's API integrates with, and the functions' tracing.
pub const PATH_TYPES: [&str; 3] = [
    "aws_lambda_function",
    "aws_api_gateway_integration",
    "aws_api_gateway_authorizer",
];

/// The attribute a function's `tracing_config { mode }` is kept under.
pub const TRACING_MODE: &str = "tracing_config.mode";

/// Where a block is written.
#[derive(Debug, Clone, Default)]
pub struct At {
    pub file: String,
    pub line: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub kind: String,
    pub name: String,
    pub at: At,
    pub attrs: BTreeMap<String, Expression>,
}

#[derive(Debug, Clone)]
pub struct ModuleCall {
    pub name: String,
    pub at: At,
    /// The call's arguments: `source`, `count`, `for_each` and the inputs.
    pub attrs: BTreeMap<String, Expression>,
}

#[derive(Debug, Clone, Default)]
pub struct Module {
    pub dir: PathBuf,
    /// Each variable and its default, if it has one.
    pub variables: BTreeMap<String, Option<Expression>>,
    pub locals: BTreeMap<String, Expression>,
    pub calls: Vec<ModuleCall>,
    pub resources: Vec<Resource>,
    /// `provider "aws" { default_tags { tags = ... } }` (the unaliased one).
    pub default_tags: Option<Expression>,
    /// The files read, as shown.
    pub files: Vec<String>,
}

/// Whether `name` is Terraform source (`.tf`, `.tf.json`).
pub fn is_source(name: &str) -> bool {
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

/// Reads every `.tf` and `.tf.json` file of `dir` (not below it), override
/// files (`override.tf`, `*_override.tf`) last, merged over the resources
/// they name as Terraform does.
pub fn module(dir: &Path, cwd: &Path, max: u64) -> Result<Module, FileError> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| FileError::Read {
            path: files::shown(dir, cwd),
            source,
        })?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_source)
        })
        .collect();
    names.sort_by_key(|p| (is_override(p), p.clone()));
    let mut m = Module {
        dir: dir.to_owned(),
        ..Module::default()
    };
    for path in names {
        let shown = files::shown(&path, cwd);
        let text = files::read_text(&path, &shown, max)?;
        let overriding = is_override(&path);
        if path.to_string_lossy().ends_with(".json") {
            let doc: Json = serde_json::from_str(&text).map_err(|e| FileError::Syntax {
                path: shown.clone(),
                line: e.line(),
                message: e.to_string(),
            })?;
            json_file(&mut m, &doc, &shown, overriding);
        } else {
            let body = hcl::edit::parser::parse_body(&text).map_err(|e| FileError::Syntax {
                path: shown.clone(),
                line: e.location().line(),
                message: e.message().to_owned(),
            })?;
            hcl_file(&mut m, &body, &text, &shown, overriding);
        }
        m.files.push(shown);
    }
    Ok(m)
}

fn is_override(path: &Path) -> bool {
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .trim_end_matches(".json")
        .trim_end_matches(".tf");
    stem == "override" || stem.ends_with("_override")
}

fn attrs(body: &Body) -> BTreeMap<String, Expression> {
    body.attributes()
        .map(|a| (a.key.as_str().to_owned(), a.value.clone().into()))
        .collect()
}

fn line_of(text: &str, block: &Block) -> Option<usize> {
    let start = block.span()?.start;
    Some(
        text.as_bytes()[..start.min(text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1,
    )
}

fn hcl_file(m: &mut Module, body: &Body, text: &str, shown: &str, overriding: bool) {
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        let at = At {
            file: shown.to_owned(),
            line: line_of(text, block),
        };
        match (block.ident.as_str(), labels.as_slice()) {
            ("variable", [name]) => {
                let default = block
                    .body
                    .get_attribute("default")
                    .map(|a| a.value.clone().into());
                m.variables.insert((*name).to_owned(), default);
            }
            ("locals", []) => m.locals.extend(attrs(&block.body)),
            ("module", [name]) => {
                add_call(m, (*name).to_owned(), at, attrs(&block.body), overriding)
            }
            ("resource", [kind, name]) if JUDGED.contains(kind) || PATH_TYPES.contains(kind) => {
                let mut attrs = attrs(&block.body);
                // A function's mode is in a nested block.
                let mode = block
                    .body
                    .blocks()
                    .find(|b| b.ident.as_str() == "tracing_config")
                    .and_then(|b| b.body.get_attribute("mode"));
                if let Some(mode) = mode {
                    attrs.insert(TRACING_MODE.into(), mode.value.clone().into());
                }
                add_resource(
                    m,
                    Resource {
                        kind: (*kind).to_owned(),
                        name: (*name).to_owned(),
                        at,
                        attrs,
                    },
                    overriding,
                )
            }
            ("provider", ["aws"]) if block.body.get_attribute("alias").is_none() => {
                let tags = block
                    .body
                    .blocks()
                    .find(|b| b.ident.as_str() == "default_tags")
                    .and_then(|b| b.body.get_attribute("tags"))
                    .map(|a| a.value.clone().into());
                if tags.is_some() {
                    m.default_tags = tags;
                }
            }
            _ => {}
        }
    }
}

/// An override file's block replaces the arguments it sets; a new block is
/// added.
fn add_resource(m: &mut Module, r: Resource, overriding: bool) {
    let same = |e: &&mut Resource| e.kind == r.kind && e.name == r.name;
    match m.resources.iter_mut().find(same) {
        Some(e) if overriding => e.attrs.extend(r.attrs),
        _ => m.resources.push(r),
    }
}

fn add_call(
    m: &mut Module,
    name: String,
    at: At,
    attrs: BTreeMap<String, Expression>,
    overriding: bool,
) {
    match m.calls.iter_mut().find(|c| c.name == name) {
        Some(c) if overriding => c.attrs.extend(attrs),
        _ => m.calls.push(ModuleCall { name, at, attrs }),
    }
}

/// Terraform's JSON syntax: the same blocks as objects keyed by label.
fn json_file(m: &mut Module, doc: &Json, shown: &str, overriding: bool) {
    let at = || At {
        file: shown.to_owned(),
        line: None,
    };
    for (name, v) in objects(&doc["variable"]) {
        m.variables
            .insert(name.clone(), v.get("default").map(expression));
    }
    if let Json::Object(o) = &doc["locals"] {
        m.locals
            .extend(o.iter().map(|(k, v)| (k.clone(), expression(v))));
    }
    for (name, v) in objects(&doc["module"]) {
        add_call(m, name.clone(), at(), json_attrs(v), overriding);
    }
    for kind in JUDGED.iter().chain(&PATH_TYPES) {
        for (name, v) in objects(&doc["resource"][kind]) {
            let mut attrs = json_attrs(v);
            let block = match &v["tracing_config"] {
                Json::Array(a) => a.first().cloned().unwrap_or(Json::Null),
                other => other.clone(),
            };
            if let Some(mode) = block.get("mode") {
                attrs.insert(TRACING_MODE.into(), expression(mode));
            }
            let r = Resource {
                kind: (*kind).to_owned(),
                name: name.clone(),
                at: at(),
                attrs,
            };
            add_resource(m, r, overriding);
        }
    }
    let providers = match &doc["provider"]["aws"] {
        Json::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for p in providers.into_iter().filter(|p| p.get("alias").is_none()) {
        let block = match &p["default_tags"] {
            Json::Array(a) => a.first().cloned().unwrap_or(Json::Null),
            other => other.clone(),
        };
        if let Some(tags) = block.get("tags") {
            m.default_tags = Some(expression(tags));
        }
    }
}

/// `{name: {...}}`, or `{name: [{...}]}` (a block written as a list).
fn objects(v: &Json) -> Vec<(&String, &Json)> {
    match v {
        Json::Object(o) => o
            .iter()
            .map(|(k, v)| match v {
                Json::Array(a) if a.len() == 1 => (k, &a[0]),
                _ => (k, v),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn json_attrs(v: &Json) -> BTreeMap<String, Expression> {
    match v {
        Json::Object(o) => o.iter().map(|(k, v)| (k.clone(), expression(v))).collect(),
        _ => BTreeMap::new(),
    }
}

/// A JSON value as the expression Terraform reads it: a string is a
/// template; one that is a single `${...}` is that expression (its value
/// keeps its type).
pub fn expression(v: &Json) -> Expression {
    match v {
        Json::Null => Expression::Null,
        Json::Bool(b) => Expression::Bool(*b),
        Json::Number(n) => n
            .as_f64()
            .and_then(hcl::Number::from_f64)
            .map(Expression::Number)
            .unwrap_or(Expression::Null),
        Json::String(s) => string_expression(s),
        Json::Array(a) => Expression::Array(a.iter().map(expression).collect()),
        Json::Object(o) => Expression::Object(
            o.iter()
                .map(|(k, v)| (hcl::ObjectKey::from(k.as_str()), expression(v)))
                .collect(),
        ),
    }
}

fn string_expression(s: &str) -> Expression {
    if !s.contains("${") && !s.contains("%{") {
        return Expression::String(s.to_owned());
    }
    let single = s
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .filter(|inner| !inner.contains("${") && !inner.contains('}'));
    if let Some(parsed) = single.and_then(|inner| inner.trim().parse::<Expression>().ok()) {
        return parsed;
    }
    Expression::TemplateExpr(Box::new(hcl::TemplateExpr::QuotedString(s.to_owned())))
}
