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
use super::super::SkippedPath;

/// The resource types `check` judges (as in plans).
pub const JUDGED: [&str; 3] = [
    "aws_api_gateway_stage",
    "awscc_apigateway_stage",
    "aws_api_gateway_deployment",
];

/// The resource types read for the trace path (`check::path`) and the
/// sampling rule: what APIs integrate with, functions, names and rules.
pub const PATH_TYPES: [&str; 5] = [
    "aws_lambda_function",
    "aws_api_gateway_integration",
    "aws_api_gateway_authorizer",
    "aws_api_gateway_rest_api",
    "aws_xray_sampling_rule",
];

/// Where a sampling rule's `sampling_rate_boost { max_rate }` is kept.
pub const BOOST_MAX_RATE: &str = "sampling_rate_boost.max_rate";

/// Where a function's `environment { variables }` is kept.
pub const ENVIRONMENT: &str = "environment.variables";

/// Nested blocks whose one attribute is read: (block, attribute, kept as).
const NESTED: [(&str, &str, &str); 3] = [
    ("tracing_config", "mode", TRACING_MODE),
    ("sampling_rate_boost", "max_rate", BOOST_MAX_RATE),
    ("environment", "variables", ENVIRONMENT),
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

/// A `variable` block: its default, and whether Terraform redacts it.
#[derive(Debug, Clone, Default)]
pub struct Variable {
    pub default: Option<Expression>,
    pub sensitive: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Expression>,
    pub calls: Vec<ModuleCall>,
    pub resources: Vec<Resource>,
    /// `provider "aws" { default_tags { tags = ... } }` (the unaliased one).
    pub default_tags: Option<Expression>,
    /// The files read, as shown.
    pub files: Vec<String>,
    /// The files that could not be read, and why: the rest of the module
    /// is still judged, and what refers to these is unknown.
    pub unread: Vec<SkippedPath>,
    /// Where each resource (type, name) and call is in its list, for
    /// override files: a lookup, not a scan per block (a 5 MB file was
    /// quadratic).
    index: std::collections::HashMap<(String, String), usize>,
}

impl Module {
    /// Said of a name the module does not declare when a file was not read
    /// (the name may be declared there).
    pub fn unread_note(&self) -> String {
        match self.unread.as_slice() {
            [] => String::new(),
            [one] => format!(" in the files check could read ({} was skipped)", one.path),
            [first, ..] => format!(
                " in the files check could read ({} and {} more were skipped)",
                first.path,
                self.unread.len() - 1
            ),
        }
    }
}

pub use super::names::is_source;

/// Reads every `.tf`, `.tf.json`, `.tofu` and `.tofu.json` file of `dir` (not below it), override
/// files (`override.tf`, `*_override.tf`) last, merged over the resources
/// they name as Terraform does. A file that cannot be read fails the
/// directory when `strict` (it was named on the command line); otherwise it
/// is recorded in `unread` and the other files are still read.
pub fn module(dir: &Path, cwd: &Path, max: u64, strict: bool) -> Result<Module, FileError> {
    let (names, shadowed) = super::names::sources(dir, cwd)?;
    let mut m = Module {
        dir: dir.to_owned(),
        unread: shadowed,
        ..Module::default()
    };
    for path in names {
        let shown = files::shown(&path, cwd);
        match file(&mut m, &path, &shown, max) {
            Ok(()) => m.files.push(shown),
            Err(e) if strict => return Err(e),
            Err(e) => m.unread.push(e.skipped()),
        }
    }
    Ok(m)
}

/// Largest `.tf` / `.tf.json` file read: HCL's syntax tree peaks at about
/// 35 times the text (`make bench-check`), so a file at the general
/// `--max-file-size` (128 MiB) could pass 4 GiB. Real modules are a few
/// hundred KB.
pub const MAX_SOURCE_FILE: u64 = 16 << 20;

fn file(m: &mut Module, path: &Path, shown: &str, max: u64) -> Result<(), FileError> {
    let text = files::read_text(path, shown, max.min(MAX_SOURCE_FILE))?;
    let overriding = super::names::is_override(path);
    if path.to_string_lossy().ends_with(".json") {
        let doc: Json = serde_json::from_str(&text).map_err(|e| FileError::Syntax {
            path: shown.to_owned(),
            line: e.line(),
            message: e.to_string(),
        })?;
        json_file(m, &doc, shown, overriding);
    } else {
        let body = hcl::edit::parser::parse_body(&text).map_err(|e| FileError::Syntax {
            path: shown.to_owned(),
            line: e.location().line(),
            message: e.message().to_owned(),
        })?;
        hcl_file(m, &body, &files::Lines::new(&text), shown, overriding);
    }
    Ok(())
}

fn attrs(body: &Body) -> BTreeMap<String, Expression> {
    body.attributes()
        .map(|a| (a.key.as_str().to_owned(), a.value.clone().into()))
        .collect()
}

fn line_of(lines: &files::Lines, block: &Block) -> Option<usize> {
    Some(lines.line(block.span()?.start))
}

fn hcl_file(m: &mut Module, body: &Body, lines: &files::Lines, shown: &str, overriding: bool) {
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        let at = At {
            file: shown.to_owned(),
            line: line_of(lines, block),
        };
        match (block.ident.as_str(), labels.as_slice()) {
            ("variable", [name]) => {
                let default = block
                    .body
                    .get_attribute("default")
                    .map(|a| a.value.clone().into());
                let sensitive = block
                    .body
                    .get_attribute("sensitive")
                    .is_some_and(|a| a.value.as_bool() == Some(true));
                m.variables
                    .insert((*name).to_owned(), Variable { default, sensitive });
            }
            ("locals", []) => m.locals.extend(attrs(&block.body)),
            ("module", [name]) => {
                add_call(m, (*name).to_owned(), at, attrs(&block.body), overriding)
            }
            ("resource", [kind, name]) if JUDGED.contains(kind) || PATH_TYPES.contains(kind) => {
                let mut attrs = attrs(&block.body);
                // A function's mode (a rule's boost) is in a nested block.
                for (nested, attr, kept) in NESTED {
                    let value = block
                        .body
                        .blocks()
                        .find(|b| b.ident.as_str() == nested)
                        .and_then(|b| b.body.get_attribute(attr));
                    if let Some(v) = value {
                        attrs.insert(kept.into(), v.value.clone().into());
                    }
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
    let key = (r.kind.clone(), r.name.clone());
    match m.index.get(&key) {
        Some(&i) if overriding => m.resources[i].attrs.extend(r.attrs),
        _ => {
            m.index.entry(key).or_insert(m.resources.len());
            m.resources.push(r);
        }
    }
}

fn add_call(
    m: &mut Module,
    name: String,
    at: At,
    attrs: BTreeMap<String, Expression>,
    overriding: bool,
) {
    // Calls share the index under the type "module" (no resource type is
    // named that).
    let key = ("module".to_owned(), name.clone());
    match m.index.get(&key) {
        Some(&i) if overriding => m.calls[i].attrs.extend(attrs),
        _ => {
            m.index.entry(key).or_insert(m.calls.len());
            m.calls.push(ModuleCall { name, at, attrs });
        }
    }
}

/// Terraform's JSON syntax: the same blocks as objects keyed by label. At
/// every level an array of objects stands for several (HCL's JSON
/// specification): `{"resource": [{...}, {...}]}`,
/// `{"resource": {"aws_api_gateway_stage": [{...}]}}`.
fn json_file(m: &mut Module, doc: &Json, shown: &str, overriding: bool) {
    let at = || At {
        file: shown.to_owned(),
        line: None,
    };
    for (labels, v) in labelled(&doc["variable"], 1) {
        m.variables.insert(
            labels[0].clone(),
            Variable {
                default: v.get("default").map(expression),
                sensitive: v.get("sensitive") == Some(&Json::Bool(true)),
            },
        );
    }
    for (_, v) in labelled(&doc["locals"], 0) {
        if let Json::Object(o) = v {
            m.locals
                .extend(o.iter().map(|(k, v)| (k.clone(), expression(v))));
        }
    }
    for (labels, v) in labelled(&doc["module"], 1) {
        add_call(m, labels[0].clone(), at(), json_attrs(v), overriding);
    }
    for (labels, v) in labelled(&doc["resource"], 2) {
        let [kind, name] = &labels[..] else { continue };
        if !JUDGED.contains(&kind.as_str()) && !PATH_TYPES.contains(&kind.as_str()) {
            continue;
        }
        let mut attrs = json_attrs(v);
        for (nested, attr, kept) in NESTED {
            if let Some((_, block)) = labelled(&v[nested], 0).first() {
                if let Some(value) = block.get(attr) {
                    attrs.insert(kept.into(), expression(value));
                }
            }
        }
        let r = Resource {
            kind: kind.clone(),
            name: name.clone(),
            at: at(),
            attrs,
        };
        add_resource(m, r, overriding);
    }
    for (labels, p) in labelled(&doc["provider"], 1) {
        if labels[0] != "aws" || p.get("alias").is_some() {
            continue;
        }
        if let Some((_, block)) = labelled(&p["default_tags"], 0).first() {
            if let Some(tags) = block.get("tags") {
                m.default_tags = Some(expression(tags));
            }
        }
    }
}

/// The bodies of a block type with `labels` labels, each with its labels,
/// arrays read at every level as several objects.
fn labelled(v: &Json, labels: usize) -> Vec<(Vec<String>, &Json)> {
    let mut out = Vec::new();
    let mut todo: Vec<(Vec<String>, &Json)> = vec![(Vec::new(), v)];
    while let Some((path, v)) = todo.pop() {
        match v {
            Json::Array(items) => todo.extend(items.iter().rev().map(|i| (path.clone(), i))),
            Json::Object(o) if path.len() < labels => {
                for (k, child) in o.iter().rev() {
                    let mut p = path.clone();
                    p.push(k.clone());
                    todo.push((p, child));
                }
            }
            Json::Object(_) => out.push((path, v)),
            _ => {}
        }
    }
    out
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
