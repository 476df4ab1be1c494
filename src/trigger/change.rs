//! CloudTrail change events ("AWS API Call via CloudTrail" from
//! aws.apigateway, forwarded from every member account's default bus to the
//! central bus): which REST API to rescan, or why the event is ignored.
//! Pure: an ignored event costs no AWS call.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{cut, is_api_id, rest_api_of_arn, AccountId, Region};

pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// The API Gateway calls that can change a stage's tracing, its existence,
/// or its exemption tags.
pub const EVENT_NAMES: [&str; 10] = [
    "CreateStage",
    "UpdateStage",
    "DeleteStage",
    "CreateDeployment",
    "DeleteRestApi",
    "ImportRestApi",
    "PutRestApi",
    "CreateRestApi",
    "TagResource",
    "UntagResource",
];

/// One REST API to rescan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiChange {
    pub account: AccountId,
    pub region: Region,
    pub api_id: String,
}

/// An event that changes nothing, and why. Every echoed field is cut to
/// [`crate::model::QUOTE_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredEvent {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub event_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub reason: String,
}

/// A change event, read once at the trigger boundary: the REST API to
/// rescan, or why the event changes nothing.
pub type Change = Result<ApiChange, IgnoredEvent>;

/// Whether `event` is a CloudTrail change event from API Gateway.
pub fn is_change_event(event: &Value) -> bool {
    event["detail-type"] == DETAIL_TYPE && event["source"] == "aws.apigateway"
}

/// The parts of an "AWS API Call via CloudTrail" event this product reads.
#[derive(Debug, Deserialize)]
struct CloudTrailEvent {
    account: Option<String>,
    region: Option<String>,
    detail: Detail,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_name: Option<String>,
    event_source: Option<String>,
    /// Any value here means the call failed (CloudTrail writes a string;
    /// anything else is not a success either).
    error_code: Option<Value>,
    recipient_account_id: Option<String>,
    aws_region: Option<String>,
    request_parameters: Option<RequestParameters>,
    response_elements: Option<ResponseElements>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestParameters {
    rest_api_id: Option<String>,
    resource_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ResponseElements {
    id: Option<String>,
}

/// The REST API an event is about, or why it is ignored.
pub fn read_change(event: &Value) -> Change {
    let ev = CloudTrailEvent::deserialize(event).map_err(|e| IgnoredEvent {
        event_name: String::new(),
        account: None,
        region: None,
        reason: format!("malformed CloudTrail event: {}", crate::trigger::short(&e)),
    })?;
    let d = ev.detail;
    let event_name = d.event_name.unwrap_or_default();
    let account = ev.account.or(d.recipient_account_id);
    let region = ev.region.or(d.aws_region);
    let ignored = |reason: String| IgnoredEvent {
        event_name: cut(&event_name),
        account: account.as_deref().map(cut),
        region: region.as_deref().map(cut),
        reason,
    };
    if !EVENT_NAMES.contains(&event_name.as_str()) {
        return Err(ignored(
            "not a call that can change a stage's tracing".into(),
        ));
    }
    match &d.error_code {
        None | Some(Value::Null) => {}
        Some(Value::String(code)) => {
            return Err(ignored(format!(
                "the call failed ({}): nothing changed",
                cut(code)
            )))
        }
        Some(_) => {
            return Err(ignored(
                "the call failed (errorCode is not a string): nothing changed".into(),
            ))
        }
    }
    if d.event_source.as_deref() != Some("apigateway.amazonaws.com") {
        return Err(ignored(
            "eventSource is not apigateway.amazonaws.com".into(),
        ));
    }
    let Some(account) = account.as_deref().and_then(|a| AccountId::parse(a).ok()) else {
        return Err(ignored("no valid account".into()));
    };
    let Some(region) = region.as_deref().and_then(|r| Region::parse(r).ok()) else {
        return Err(ignored("no known region".into()));
    };
    let params = d.request_parameters;
    let api_id = match event_name.as_str() {
        "CreateRestApi" | "ImportRestApi" => d.response_elements.and_then(|r| r.id),
        "TagResource" | "UntagResource" => params
            .and_then(|p| p.resource_arn)
            .and_then(|arn| rest_api_of_arn(&arn))
            .map(|(_, api)| api),
        _ => params.and_then(|p| p.rest_api_id),
    };
    // API Gateway's id shape, checked before any call: a 10 KB "id" is
    // never sent to AWS.
    let Some(api_id) = api_id.filter(|id| is_api_id(id)) else {
        return Err(ignored(
            "no REST API id in the event (not a REST API, or a malformed event)".into(),
        ));
    };
    Ok(ApiChange {
        account,
        region,
        api_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::cloudtrail;

    const ACCOUNT: &str = "111111111111";

    #[test]
    fn each_change_names_its_api() {
        for name in [
            "create-stage",
            "update-stage",
            "delete-stage",
            "create-deployment",
            "delete-rest-api",
            "tag-resource",
            "create-rest-api",
        ] {
            let ev = cloudtrail(name, ACCOUNT, "a1b2c3d4e5", "prod");
            assert!(is_change_event(&ev), "{name}");
            let c = read_change(&ev).unwrap_or_else(|i| panic!("{name}: {i:?}"));
            assert_eq!(
                (c.account.as_str(), c.region.as_str(), c.api_id.as_str()),
                (ACCOUNT, "eu-west-1", "a1b2c3d4e5"),
                "{name}"
            );
        }
    }

    #[test]
    fn failed_and_unrelated_calls_are_ignored_with_a_reason() {
        let failed = read_change(&cloudtrail(
            "update-stage-error",
            ACCOUNT,
            "a1b2c3d4e5",
            "prod",
        ))
        .unwrap_err();
        assert_eq!(
            failed.reason,
            "the call failed (AccessDenied): nothing changed"
        );
        let read_only = read_change(&cloudtrail("get-rest-apis", ACCOUNT, "x", "y")).unwrap_err();
        assert!(
            read_only.reason.contains("can change a stage"),
            "{read_only:?}"
        );
        let mut no_api = cloudtrail("update-stage", ACCOUNT, "a1b2c3d4e5", "prod");
        no_api["detail"]["requestParameters"]["restApiId"] = serde_json::json!("../../x");
        assert!(read_change(&no_api)
            .unwrap_err()
            .reason
            .contains("no REST API id"));
        let mut http = cloudtrail("tag-resource", ACCOUNT, "a1b2c3d4e5", "prod");
        http["detail"]["requestParameters"]["resourceArn"] =
            serde_json::json!("arn:aws:apigateway:eu-west-1::/apis/abc");
        assert!(read_change(&http).is_err(), "HTTP APIs are not REST APIs");
    }

    #[test]
    fn hostile_fields_are_ignored_before_any_call_and_never_echoed_whole() {
        // A non-string errorCode is a failed call, not a success.
        let mut odd = cloudtrail("update-stage", ACCOUNT, "a1b2c3d4e5", "prod");
        odd["detail"]["errorCode"] = serde_json::json!({"code": 5});
        assert!(read_change(&odd)
            .unwrap_err()
            .reason
            .contains("the call failed"));
        // An "API id" of 10 KB is not API Gateway's shape: never sent.
        let mut long = cloudtrail("update-stage", ACCOUNT, "a1b2c3d4e5", "prod");
        long["detail"]["requestParameters"]["restApiId"] = serde_json::json!("a".repeat(10_000));
        assert!(read_change(&long)
            .unwrap_err()
            .reason
            .contains("no REST API id"));
        // Echoed fields are cut to 100 characters.
        let mut huge = cloudtrail("update-stage", ACCOUNT, "a1b2c3d4e5", "prod");
        huge["detail"]["eventName"] = serde_json::json!("E".repeat(100_000));
        huge["region"] = serde_json::json!("r".repeat(500_000));
        let ignored = read_change(&huge).unwrap_err();
        assert!(ignored.event_name.chars().count() <= crate::model::QUOTE_MAX);
        assert!(ignored.region.unwrap().chars().count() <= crate::model::QUOTE_MAX);
        let answer = serde_json::to_string(&read_change(&long).unwrap_err()).unwrap();
        assert!(answer.len() < 1_000, "{} bytes", answer.len());
    }
}
