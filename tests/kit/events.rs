//! Event fixtures shared by the unit tests (included into the library under
//! `cfg(test)`) and the integration tests: one copy of each helper.
#![allow(dead_code)] // each user takes part of it

use serde_json::{json, Value};

/// A JSON file of `tests/fixtures`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One SQS record as Lambda's event source mapping delivers it.
pub fn sqs_record(id: &str, body: &str) -> Value {
    json!({"messageId": id, "receiptHandle": "rh", "body": body, "attributes": {}, "messageAttributes": {},
           "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:apigw-tracing-scan",
           "awsRegion": "eu-west-1"})
}

/// A CloudTrail change event of `tests/fixtures/cloudtrail`, for one
/// account, REST API and stage.
pub fn cloudtrail(name: &str, account: &str, api_id: &str, stage: &str) -> Value {
    templated(&format!("cloudtrail/{name}.json"), account, api_id, stage)
}

/// The Security Hub custom action fixture, its first finding naming one
/// account, REST API and stage.
pub fn custom_action(account: &str, api_id: &str, stage: &str) -> Value {
    templated("securityhub-custom-action.json", account, api_id, stage)
}

/// A fixture with `{{ACCOUNT}}`, `{{API_ID}}` and `{{STAGE}}` filled in.
fn templated(name: &str, account: &str, api_id: &str, stage: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("{{ACCOUNT}}", account)
        .replace("{{API_ID}}", api_id)
        .replace("{{STAGE}}", stage);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
