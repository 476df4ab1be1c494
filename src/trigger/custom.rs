//! Security Hub custom action ("Enable X-Ray tracing"): EventBridge brings
//! the selected findings in full ASFF. Read here, once: the findings of
//! this product that can be acted on (FAILED, well formed, `Id` and
//! resource naming the same stage), and the others with the reason.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::asff::{stage_of_id, GENERATOR_ID};
use crate::model::{cut, quote, AccountId, StageRef};

/// The `detail-type` of a Security Hub custom action's event.
pub const DETAIL_TYPE: &str = "Security Hub Findings - Custom Action";

/// A finding to act on: whose stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingTarget {
    pub finding_id: String,
    pub stage: StageRef,
}

/// A selected finding that is not acted on, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredFinding {
    pub finding_id: String,
    pub reason: String,
}

/// The event, read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomAction {
    pub targets: Vec<FindingTarget>,
    pub ignored: Vec<IgnoredFinding>,
}

#[derive(Debug, thiserror::Error)]
pub enum CustomActionError {
    #[error("custom action event without detail.findings (an array)")]
    NoFindings,
}

#[derive(Deserialize)]
struct Event {
    detail: Detail,
}

#[derive(Deserialize)]
struct Detail {
    findings: Vec<Value>,
}

/// The fields of a selected finding this product reads.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Selected {
    id: String,
    generator_id: Option<String>,
    aws_account_id: Option<String>,
    compliance: Option<SelectedCompliance>,
    #[serde(default)]
    resources: Vec<SelectedResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SelectedCompliance {
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SelectedResource {
    id: Option<String>,
}

/// Splits the event's findings into targets and ignored ones.
pub fn parse_custom_action(event: &Value) -> Result<CustomAction, CustomActionError> {
    let Event { detail } = Event::deserialize(event).map_err(|_| CustomActionError::NoFindings)?;
    let mut out = CustomAction::default();
    for raw in detail.findings {
        match target(&raw) {
            Ok(t) => out.targets.push(t),
            Err(reason) => out.ignored.push(IgnoredFinding {
                finding_id: cut(raw["Id"].as_str().unwrap_or_default()),
                reason,
            }),
        }
    }
    Ok(out)
}

fn target(raw: &Value) -> Result<FindingTarget, String> {
    let f = Selected::deserialize(raw)
        .map_err(|e| format!("malformed finding: {}", super::short(&e)))?;
    let generator = f.generator_id.unwrap_or_default();
    if generator == crate::asff::PATH_GENERATOR_ID {
        return Err(
            "a trace-path finding: its functions are fixed with `apigw-tracing remediate --trace-path`, not by this action (it turns on stage tracing)"
                .into(),
        );
    }
    if generator != GENERATOR_ID {
        return Err(format!(
            "not this product's finding (GeneratorId {})",
            quote(&generator)
        ));
    }
    if f.compliance.and_then(|c| c.status).as_deref() != Some("FAILED") {
        return Err("not FAILED: nothing to fix".into());
    }
    let Ok(account) = AccountId::parse(f.aws_account_id.as_deref().unwrap_or_default()) else {
        return Err("no valid AwsAccountId".into());
    };
    let resource = f
        .resources
        .first()
        .and_then(|r| r.id.as_deref())
        .unwrap_or_default();
    let stage = StageRef::from_arn(resource, account).map_err(|e| e.to_string())?;
    // The stage is the one its Id names, in the account that owns it: a
    // finding whose Id and resource disagree is not acted on.
    match stage_of_id(&f.id) {
        None => Err("its Id is not of the shape this product writes".into()),
        Some(named) if named != stage => Err(format!(
            "its Id names {named}, its resource {stage}: they must agree"
        )),
        Some(_) => Ok(FindingTarget {
            finding_id: f.id,
            stage,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::custom_action;

    #[test]
    fn only_our_failed_and_consistent_findings_are_targets() {
        let event = custom_action("111111111111", "a1b2c3d4e5", "prod");
        let read = parse_custom_action(&event).unwrap();
        assert!(!read.targets.is_empty(), "{read:?}");
        let mut bad = event.clone();
        let f = &mut bad["detail"]["findings"][0];
        f["Resources"][0]["Id"] =
            serde_json::json!("arn:aws:apigateway:eu-west-1::/restapis/other1/stages/prod");
        let read_bad = parse_custom_action(&bad).unwrap();
        assert_eq!(read_bad.targets.len() + 1, read.targets.len());
        assert!(
            read_bad
                .ignored
                .iter()
                .any(|i| i.reason.contains("must agree")),
            "{read_bad:?}"
        );
        let mut path = event.clone();
        path["detail"]["findings"][0]["GeneratorId"] =
            serde_json::json!("apigw-tracing/trace-path");
        let read_path = parse_custom_action(&path).unwrap();
        assert_eq!(read_path.targets.len() + 1, read.targets.len());
        assert!(read_path
            .ignored
            .iter()
            .any(|i| i.reason.contains("remediate --trace-path")));
        let mut numeric = event;
        numeric["detail"]["findings"][0]["Id"] = serde_json::json!(5);
        let read_num = parse_custom_action(&numeric).unwrap();
        assert!(read_num
            .ignored
            .iter()
            .any(|i| i.reason.starts_with("malformed finding")));
        assert!(matches!(
            parse_custom_action(&serde_json::json!({"detail": {}})),
            Err(CustomActionError::NoFindings)
        ));
    }
}
