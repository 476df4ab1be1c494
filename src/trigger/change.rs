//! CloudTrail change events ("AWS API Call via CloudTrail" from
//! aws.apigateway, forwarded from every member account's default bus to the
//! central bus): which REST API to rescan, or why the event is ignored.
//! Pure: an ignored event costs no AWS call.

use serde::Serialize;
use serde_json::Value;

use crate::model::{validate_region, AccountId};

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
    pub region: String,
    pub api_id: String,
}

/// An event that changes nothing, and why.
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

/// Whether `event` is a CloudTrail change event from API Gateway.
pub fn is_change_event(event: &Value) -> bool {
    event["detail-type"] == DETAIL_TYPE && event["source"] == "aws.apigateway"
}

/// The REST API an event is about, or why it is ignored.
pub fn read_change(event: &Value) -> Result<ApiChange, IgnoredEvent> {
    let d = &event["detail"];
    let event_name = d["eventName"].as_str().unwrap_or_default().to_owned();
    let account = event["account"]
        .as_str()
        .or_else(|| d["recipientAccountId"].as_str())
        .map(str::to_owned);
    let region = event["region"]
        .as_str()
        .or_else(|| d["awsRegion"].as_str())
        .map(str::to_owned);
    let ignored = |reason: String| IgnoredEvent {
        event_name: event_name.clone(),
        account: account.clone(),
        region: region.clone(),
        reason,
    };
    if !EVENT_NAMES.contains(&event_name.as_str()) {
        return Err(ignored(
            "not a call that can change a stage's tracing".into(),
        ));
    }
    if let Some(code) = d["errorCode"].as_str() {
        return Err(ignored(format!(
            "the call failed ({code}): nothing changed"
        )));
    }
    if d["eventSource"] != "apigateway.amazonaws.com" {
        return Err(ignored(
            "eventSource is not apigateway.amazonaws.com".into(),
        ));
    }
    let Some(account) = account.as_deref().and_then(|a| AccountId::parse(a).ok()) else {
        return Err(ignored("no valid account".into()));
    };
    let Some(region) = region.clone().filter(|r| validate_region(r).is_ok()) else {
        return Err(ignored("no known region".into()));
    };
    let params = &d["requestParameters"];
    let api_id = match event_name.as_str() {
        "CreateRestApi" | "ImportRestApi" => {
            d["responseElements"]["id"].as_str().map(str::to_owned)
        }
        "TagResource" | "UntagResource" => params["resourceArn"]
            .as_str()
            .and_then(|arn| arn.split("/restapis/").nth(1))
            .and_then(|rest| rest.split('/').next())
            .map(str::to_owned),
        _ => params["restApiId"].as_str().map(str::to_owned),
    };
    let Some(api_id) =
        api_id.filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
    else {
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
}
