//! Sampling in a Terraform plan: each planned `aws_xray_sampling_rule` (its
//! `after` values; known after apply is unknown), and a stage's REST API
//! name from the planned `aws_api_gateway_rest_api` its `rest_api_id`
//! refers to in the same module instance. Pure.

use std::collections::BTreeMap;

use apigw_tracing_rule::sampling::{Boost, SamplingRule};
use serde_json::Value;

use super::plan_path::{config_module, config_resource, referenced};

/// A planned rule; `address` names it when `rule_name` is not known.
pub fn rule_of(change: &Value, address: &str) -> SamplingRule {
    let after = &change["after"];
    let unknown = &change["after_unknown"];
    let known = |k: &str| unknown[k] != Value::Bool(true) && !after[k].is_null();
    let text = |k: &str| {
        known(k)
            .then(|| after[k].as_str().map(str::to_owned))
            .flatten()
    };
    let number = |k: &str| known(k).then(|| after[k].as_f64()).flatten();
    let boost = match &after["sampling_rate_boost"] {
        Value::Array(b) if !b.is_empty() => match b[0]["max_rate"].as_f64() {
            Some(m) => Boost::MaxRate(m),
            None => Boost::Unknown,
        },
        Value::Array(_) | Value::Null if unknown["sampling_rate_boost"] != Value::Bool(true) => {
            Boost::None
        }
        _ => Boost::Unknown,
    };
    let attributes = match &after["attributes"] {
        Value::Object(m) => Some(m.len()),
        Value::Null if unknown["attributes"] != Value::Bool(true) => Some(0),
        _ => None,
    };
    super::sampling::terraform_rule(address, text, number, boost, attributes)
}

/// Planned REST APIs' names: (module address, name) -> `name` when known.
#[derive(Debug, Default)]
pub struct ApiNames(BTreeMap<(String, String), Option<String>>);

impl ApiNames {
    pub fn add(&mut self, module: Option<&str>, name: &str, change: &Value) {
        let known = change["after_unknown"]["name"] != Value::Bool(true);
        let api_name = known
            .then(|| change["after"]["name"].as_str().map(str::to_owned))
            .flatten();
        self.0.insert(
            (module.unwrap_or_default().to_owned(), name.to_owned()),
            api_name,
        );
    }

    /// The name of the API the stage `kind.name` of `module_address`
    /// belongs to, when exactly one planned API is referred to.
    pub fn of_stage(
        &self,
        config: &Value,
        module_address: Option<&str>,
        kind: &str,
        name: &str,
    ) -> Option<String> {
        let module = config_module(config, module_address);
        let stage = config_resource(module, kind, name)?;
        let apis = referenced(stage, "rest_api_id", "aws_api_gateway_rest_api");
        let [api] = apis.into_iter().collect::<Vec<_>>().try_into().ok()?;
        self.0
            .get(&(module_address.unwrap_or_default().to_owned(), api))
            .cloned()
            .flatten()
    }
}
