//! The trace path in a Terraform plan. Integration URIs are known only
//! after apply, so the wiring comes from the plan's `configuration` (each
//! expression's `references`): the `aws_api_gateway_integration`s (types
//! `AWS`, `AWS_PROXY`) and `aws_api_gateway_authorizer`s of the stage's
//! REST API, and the `aws_lambda_function`s they refer to in the same
//! module instance. A function's mode comes from its planned
//! `tracing_config`; unset in the configuration, the provider shows it as
//! known after apply and Lambda's default (PassThrough) applies. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::path::PathFunction;
use super::Tracing;

/// The planned functions: (module address, name) -> (address, change).
#[derive(Debug, Default)]
pub struct Functions(BTreeMap<(String, String), Vec<(String, Value)>>);

impl Functions {
    pub fn add(&mut self, module: Option<&str>, name: &str, address: &str, change: Value) {
        self.0
            .entry((module.unwrap_or_default().to_owned(), name.to_owned()))
            .or_default()
            .push((address.to_owned(), change));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The configuration of the module at `module_address` (instance keys
/// ignored: `module.a["k"].module.b` is `module_calls.a...module_calls.b`).
pub fn config_module<'a>(config: &'a Value, module_address: Option<&str>) -> &'a Value {
    let mut module = &config["root_module"];
    for part in module_address.unwrap_or_default().split("module.").skip(1) {
        let call = part.split(['[', '.']).next().unwrap_or_default();
        module = &module["module_calls"][call]["module"];
    }
    module
}

/// A managed resource of a configuration module.
pub fn config_resource<'a>(module: &'a Value, kind: &str, name: &str) -> Option<&'a Value> {
    module["resources"]
        .as_array()?
        .iter()
        .find(|r| r["mode"] == "managed" && r["type"] == kind && r["name"] == name)
}

/// The names of the `kind` resources an expression refers to.
pub fn referenced(resource: &Value, attr: &str, kind: &str) -> BTreeSet<String> {
    let prefix = format!("{kind}.");
    resource["expressions"][attr]["references"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|r| r.strip_prefix(&prefix))
        .filter_map(|r| r.split(['.', '[']).next())
        .map(str::to_owned)
        .collect()
}

/// The functions behind the stage `kind.name` of the module instance
/// `module_address`.
pub fn behind(
    config: &Value,
    module_address: Option<&str>,
    kind: &str,
    name: &str,
    functions: &Functions,
) -> Vec<PathFunction> {
    let module = config_module(config, module_address);
    let Some(stage) = config_resource(module, kind, name) else {
        return Vec::new();
    };
    let apis = referenced(stage, "rest_api_id", "aws_api_gateway_rest_api");
    if apis.is_empty() {
        return Vec::new();
    }
    let mut edges: BTreeSet<(String, bool)> = BTreeSet::new();
    for r in module["resources"].as_array().into_iter().flatten() {
        if referenced(r, "rest_api_id", "aws_api_gateway_rest_api").is_disjoint(&apis) {
            continue;
        }
        if r["type"] == "aws_api_gateway_integration" {
            let kind = r["expressions"]["type"]["constant_value"].as_str();
            if matches!(kind, Some("AWS" | "AWS_PROXY")) {
                edges.extend(
                    referenced(r, "uri", "aws_lambda_function")
                        .into_iter()
                        .map(|f| (f, false)),
                );
            }
        } else if r["type"] == "aws_api_gateway_authorizer" {
            edges.extend(
                referenced(r, "authorizer_uri", "aws_lambda_function")
                    .into_iter()
                    .map(|f| (f, true)),
            );
        }
    }
    let key = |f: &str| (module_address.unwrap_or_default().to_owned(), f.to_owned());
    let mut out = Vec::new();
    for (f, authorizer) in edges {
        let configured = config_resource(module, "aws_lambda_function", &f)
            .is_some_and(|r| r["expressions"].get("tracing_config").is_some());
        for (address, change) in functions.0.get(&key(&f)).into_iter().flatten() {
            let (tracing, mode) = mode_of(change, configured);
            let after = &change["after"];
            out.push(PathFunction {
                name: address.clone(),
                mode,
                tracing,
                authorizer,
                otel: super::otel::from_terraform(
                    &after["layers"],
                    &after["environment"][0]["variables"],
                ),
            });
        }
    }
    out
}

/// A planned function's X-Ray mode.
fn mode_of(change: &Value, configured: bool) -> (Tracing, String) {
    let mode = change["after"]["tracing_config"][0]["mode"].as_str();
    match mode {
        Some("Active") => (Tracing::On { note: None }, "Active".into()),
        Some(m) => (Tracing::Off { note: None }, m.to_owned()),
        None if !configured => (Tracing::Off { note: None }, "PassThrough, not set".into()),
        None => (
            Tracing::Unknown("tracing_config.mode is known only after apply".into()),
            "computed".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(kind: &str, name: &str, expressions: Value) -> Value {
        json!({"mode": "managed", "type": kind, "name": name, "expressions": expressions})
    }

    #[test]
    fn the_path_stays_in_its_module_instance_and_reads_the_configuration() {
        let refs = |r: &[&str]| json!({"references": r});
        let config = json!({"root_module": {"module_calls": {"api": {"module": {"resources": [
            resource("aws_api_gateway_stage", "s", json!({"rest_api_id": refs(&["aws_api_gateway_rest_api.x.id", "aws_api_gateway_rest_api.x"])})),
            resource("aws_api_gateway_integration", "i", json!({
                "rest_api_id": refs(&["aws_api_gateway_rest_api.x.id"]),
                "type": {"constant_value": "AWS_PROXY"},
                "uri": refs(&["aws_lambda_function.f.invoke_arn", "aws_lambda_function.f"])})),
            resource("aws_api_gateway_authorizer", "a", json!({
                "rest_api_id": refs(&["aws_api_gateway_rest_api.x.id"]),
                "authorizer_uri": refs(&["aws_lambda_function.g.invoke_arn"])})),
            resource("aws_lambda_function", "f", json!({})),
            resource("aws_lambda_function", "g", json!({"tracing_config": [{"mode": {"references": ["var.mode"]}}]})),
        ]}}}}});
        let mut functions = Functions::default();
        let unset = json!({"after": {}, "after_unknown": {"tracing_config": true}});
        let computed = json!({"after": {"tracing_config": [{}]}, "after_unknown": {"tracing_config": [{"mode": true}]}});
        functions.add(
            Some("module.api[\"a\"]"),
            "f",
            "module.api[\"a\"].aws_lambda_function.f",
            unset.clone(),
        );
        functions.add(
            Some("module.api[\"a\"]"),
            "g",
            "module.api[\"a\"].aws_lambda_function.g",
            computed,
        );
        functions.add(
            Some("module.api[\"b\"]"),
            "f",
            "module.api[\"b\"].aws_lambda_function.f",
            unset,
        );
        let got: Vec<(String, String, bool)> = behind(
            &config,
            Some("module.api[\"a\"]"),
            "aws_api_gateway_stage",
            "s",
            &functions,
        )
        .into_iter()
        .map(|p| (p.name, p.mode, p.authorizer))
        .collect();
        assert_eq!(
            got,
            [
                // Unset in the configuration: Lambda's default.
                (
                    "module.api[\"a\"].aws_lambda_function.f".to_owned(),
                    "PassThrough, not set".to_owned(),
                    false
                ),
                // Set, from a value known after apply: unknown.
                (
                    "module.api[\"a\"].aws_lambda_function.g".to_owned(),
                    "computed".to_owned(),
                    true
                ),
            ],
            "module.api[\"b\"]'s function is another instance's"
        );
    }
}
