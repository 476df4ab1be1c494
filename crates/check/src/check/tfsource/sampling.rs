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

/// The literal name of the one REST API of `module` that `stage`'s
/// `rest_api_id` refers to (`None`: computed per instance, sensitive, or
/// not one API of this module).
pub fn api_name(stage: &Resource, module: &Module, scope: &Scope) -> Option<String> {
    let apis: Vec<String> = stage
        .attrs
        .get("rest_api_id")
        .map(refs)
        .unwrap_or_default()
        .into_iter()
        .filter(|(t, _)| t == "aws_api_gateway_rest_api")
        .map(|(_, n)| n)
        .collect();
    let [api] = apis.as_slice() else {
        return None;
    };
    let r = module
        .resources
        .iter()
        .find(|r| r.kind == "aws_api_gateway_rest_api" && &r.name == api)?;
    match scope.eval(r.attrs.get("name")?) {
        Ok(v) => as_text(&v),
        Err(_) => None,
    }
}
