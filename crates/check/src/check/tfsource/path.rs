//! The trace path in Terraform source: the `aws_lambda_function`s of the
//! same module that a stage's REST API integrates with
//! (`aws_api_gateway_integration`, types `AWS` and `AWS_PROXY`, `uri`
//! referring to the function) or authorizes with
//! (`aws_api_gateway_authorizer.authorizer_uri`), each judged by its
//! `tracing_config { mode }`. Functions outside the module are not
//! reported (their mode is not in this configuration).

use std::collections::{BTreeMap, BTreeSet};

use hcl::{Expression, Value};

use super::super::path::PathFunction;
use super::super::Tracing;
use super::load::{Module, Resource, TRACING_MODE};
use super::Scope;

/// The resources an expression refers to: `(type, name)` of every
/// `type.name.attr` traversal in it, inside string templates too
/// (`".../functions/${aws_lambda_function.f.arn}/invocations"`).
pub fn refs(expr: &Expression) -> Vec<(String, String)> {
    super::eval::references(expr)
}

/// The names of the resources of `kind` that `attr` of `r` refers to.
fn named(r: &Resource, attr: &str, kind: &str) -> BTreeSet<String> {
    r.attrs
        .get(attr)
        .map(refs)
        .unwrap_or_default()
        .into_iter()
        .filter(|(t, _)| t == kind)
        .map(|(_, n)| n)
        .collect()
}

/// The functions of one module instance and what invokes them, indexed
/// once: a module of thousands of stages and integrations is read in one
/// pass, not once per stage.
#[derive(Debug, Default)]
pub struct Paths {
    /// REST API name -> (function name, is an authorizer).
    edges: BTreeMap<String, BTreeSet<(String, bool)>>,
    /// Function name -> its mode.
    functions: BTreeMap<String, (Tracing, String)>,
    /// Function name -> its OpenTelemetry (layers, two variables).
    otel: BTreeMap<String, apigw_tracing_rule::trace_path::Otel>,
}

impl Paths {
    pub fn new(module: &Module, scope: &Scope) -> Self {
        let mut paths = Paths::default();
        for r in &module.resources {
            let invoked: BTreeSet<(String, bool)> = match r.kind.as_str() {
                "aws_lambda_function" => {
                    paths.functions.insert(r.name.clone(), mode_of(r, scope));
                    paths.otel.insert(r.name.clone(), otel_of(r, scope));
                    continue;
                }
                "aws_api_gateway_integration" => {
                    let kind = r.attrs.get("type").and_then(|t| scope.eval(t).ok());
                    // Only AWS and AWS_PROXY integrations invoke a function.
                    if !matches!(
                        kind.as_ref().and_then(Value::as_str),
                        Some("AWS" | "AWS_PROXY")
                    ) {
                        continue;
                    }
                    named(r, "uri", "aws_lambda_function")
                        .into_iter()
                        .map(|f| (f, false))
                        .collect()
                }
                "aws_api_gateway_authorizer" => named(r, "authorizer_uri", "aws_lambda_function")
                    .into_iter()
                    .map(|f| (f, true))
                    .collect(),
                _ => continue,
            };
            for api in named(r, "rest_api_id", "aws_api_gateway_rest_api") {
                paths
                    .edges
                    .entry(api)
                    .or_default()
                    .extend(invoked.iter().cloned());
            }
        }
        paths
    }

    /// The functions of the module behind the stage `stage`.
    pub fn behind(&self, stage: &Resource, prefix: &str) -> Vec<PathFunction> {
        if self.functions.is_empty() {
            return Vec::new();
        }
        let edges: BTreeSet<&(String, bool)> =
            named(stage, "rest_api_id", "aws_api_gateway_rest_api")
                .iter()
                .filter_map(|api| self.edges.get(api))
                .flatten()
                .collect();
        edges
            .into_iter()
            .filter_map(|(f, authorizer)| {
                let (tracing, mode) = self.functions.get(f)?.clone();
                Some(PathFunction {
                    name: format!("{prefix}aws_lambda_function.{f}"),
                    mode,
                    tracing,
                    authorizer: *authorizer,
                    otel: self.otel.get(f).cloned().unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// A function's `tracing_config { mode }`; unset is Lambda's default.
fn mode_of(function: &Resource, scope: &Scope) -> (Tracing, String) {
    match function.attrs.get(TRACING_MODE).map(|m| scope.eval(m)) {
        None => (
            Tracing::Off { note: None },
            "PassThrough, not set".to_owned(),
        ),
        Some(Ok(Value::String(m))) if m == "Active" => (Tracing::On { note: None }, m),
        Some(Ok(Value::String(m))) => (Tracing::Off { note: None }, m),
        Some(Ok(other)) => (Tracing::Off { note: None }, other.to_string()),
        Some(Err(why)) => (Tracing::Unknown(why), "computed".to_owned()),
    }
}

/// A function's `layers` and `environment { variables }`, as far as they
/// are known before apply (only two variable names are read of them).
fn otel_of(function: &Resource, scope: &Scope) -> apigw_tracing_rule::trace_path::Otel {
    let json = |k: &str| {
        function
            .attrs
            .get(k)
            .and_then(|e| scope.eval(e).ok())
            .and_then(|v| serde_json::to_value(v).ok())
            .unwrap_or_default()
    };
    super::super::otel::from_terraform(&json("layers"), &json(super::load::ENVIRONMENT))
}
