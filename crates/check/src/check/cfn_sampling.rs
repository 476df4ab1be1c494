//! `AWS::XRay::SamplingRule` as the rule crate's `SamplingRule`: literal
//! values as written, anything computed (`!Ref`, `!Sub`) unknown. Shared by
//! the template reader and the CloudFormation hook.

use apigw_tracing_rule::sampling::{Boost, SamplingRule};

use super::yaml::{Node, Value};

pub const SAMPLING_RULE_TYPE: &str = "AWS::XRay::SamplingRule";

/// A number, or a string holding one (CloudFormation hands hooks strings).
fn number(node: Option<&Node>) -> Option<f64> {
    match &node?.value {
        Value::Number(n) => Some(*n),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(node: Option<&Node>) -> Option<String> {
    match &node?.value {
        Value::Str(s) => Some(s.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The rule a resource's `Properties` define (`id`: its logical id, the
/// name when `RuleName` is not written).
pub fn rule_of(id: &str, props: Option<&Node>) -> SamplingRule {
    let rule = props.and_then(|p| p.get("SamplingRule"));
    let field = |k: &str| rule.and_then(|r| r.get(k));
    let name = text(field("RuleName"))
        .or_else(|| text(props.and_then(|p| p.get("RuleName"))))
        .unwrap_or_else(|| id.to_owned());
    let boost = match field("SamplingRateBoost") {
        None => Boost::None,
        Some(b) => match number(b.get("MaxRate")) {
            Some(m) => Boost::MaxRate(m),
            None => Boost::Unknown,
        },
    };
    let attributes = match field("Attributes") {
        None => Some(0),
        Some(a) if a.is_map() => Some(a.entries().len()),
        Some(_) => None,
    };
    SamplingRule {
        name,
        priority: number(field("Priority")).map(|p| p as i64),
        reservoir: number(field("ReservoirSize")),
        rate: number(field("FixedRate")),
        boost,
        service_name: text(field("ServiceName")),
        service_type: text(field("ServiceType")),
        resource_arn: text(field("ResourceARN")),
        host: text(field("Host")),
        http_method: text(field("HTTPMethod")),
        url_path: text(field("URLPath")),
        attributes,
    }
}

/// A literal `Name` (of an `AWS::ApiGateway::RestApi` or a SAM API).
pub fn literal_name(props: Option<&Node>) -> Option<String> {
    match &props?.get("Name")?.value {
        Value::Str(s) => Some(s.to_string()),
        _ => None,
    }
}
