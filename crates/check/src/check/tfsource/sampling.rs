//! Sampling in Terraform source: each `aws_xray_sampling_rule` instance's
//! values as the plan would have them (unknown before apply is unknown),
//! and a stage's REST API name from the `aws_api_gateway_rest_api` its
//! `rest_api_id` refers to in the same module.

use apigw_tracing_rule::sampling::{Boost, SamplingRule};
use hcl::Value;

use super::eval::{as_number, as_text};
use super::judge::{Instance, SENSITIVE};
use super::load::{Module, Resource, BOOST_MAX_RATE};
use super::path::refs;
use super::Scope;

pub const RULE_TYPE: &str = "aws_xray_sampling_rule";

/// One rule instance; `address` names it when `rule_name` is not known.
pub fn rule(r: &Resource, address: &str, scope: &Scope, i: &Instance) -> SamplingRule {
    let get = |k: &str| match (r.attrs.get(k), &i.unknown) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(()),
        (Some(e), None) => scope.eval_at(&i.at, e).map(Some).map_err(|_| ()),
    };
    let text = |k: &str| match get(k) {
        Ok(Some((_, true))) => Some(SENSITIVE.to_owned()),
        Ok(Some((v, false))) => as_text(&v),
        _ => None,
    };
    let number = |k: &str| match get(k) {
        Ok(Some((v, _))) => as_number(&v),
        _ => None,
    };
    let boost = match get(BOOST_MAX_RATE) {
        Ok(None) => Boost::None,
        Ok(Some((v, _))) => as_number(&v).map_or(Boost::Unknown, Boost::MaxRate),
        Err(()) => Boost::Unknown,
    };
    let attributes = match get("attributes") {
        Ok(None) | Ok(Some((Value::Null, _))) => Some(0),
        Ok(Some((Value::Object(o), _))) => Some(o.len()),
        _ => None,
    };
    super::super::sampling::terraform_rule(address, text, number, boost, attributes)
}

/// A module instance's REST APIs by resource name, indexed once (a module
/// of thousands of stages is not searched once per stage).
pub fn rest_apis(module: &Module) -> std::collections::BTreeMap<&str, &Resource> {
    module
        .resources
        .iter()
        .filter(|r| r.kind == "aws_api_gateway_rest_api")
        .map(|r| (r.name.as_str(), r))
        .collect()
}

/// The literal name of the one REST API of `apis` (the module's) that
/// `stage`'s `rest_api_id` refers to (`None`: computed per instance, or
/// not one API of this module).
pub fn api_name(
    stage: &Resource,
    apis: &std::collections::BTreeMap<&str, &Resource>,
    scope: &Scope,
) -> Option<String> {
    let named: Vec<String> = stage
        .attrs
        .get("rest_api_id")
        .map(refs)
        .unwrap_or_default()
        .into_iter()
        .filter(|(t, _)| t == "aws_api_gateway_rest_api")
        .map(|(_, n)| n)
        .collect();
    let [api] = named.as_slice() else {
        return None;
    };
    let r = apis.get(api.as_str())?;
    match scope.eval(r.attrs.get("name")?) {
        Ok(v) => as_text(&v),
        Err(_) => None,
    }
}
