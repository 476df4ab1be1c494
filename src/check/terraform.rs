//! Terraform plans as JSON (`terraform show -json tfplan`): every REST API
//! stage the plan creates, updates or keeps. Pure.
//!
//! - `aws_api_gateway_stage`: `change.after.xray_tracing_enabled` (null or
//!   missing is false; `after_unknown.xray_tracing_enabled = true` is
//!   unknown); tags from `after.tags`, else `tags_all`;
//! - `awscc_apigateway_stage`: `tracing_enabled`, the same way;
//! - `aws_api_gateway_deployment` with a `stage_name`: creates a stage whose
//!   tracing cannot be set there.
//!
//! Resources only deleted are not reported; the reported resource is the
//! plan's `address` (module paths and keys included).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Fix, PlannedStage, Tracing};

/// Whether `doc` is a plan (`terraform show -json` output).
pub fn is_plan(doc: &Value) -> bool {
    doc.get("resource_changes").is_some_and(Value::is_array)
        || (doc.get("format_version").is_some() && doc.get("terraform_version").is_some())
}

pub fn stages(doc: &Value) -> Vec<PlannedStage> {
    let Some(changes) = doc.get("resource_changes").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for rc in changes {
        let kind = rc["type"].as_str().unwrap_or_default();
        let address = rc["address"].as_str().unwrap_or_default().to_owned();
        let change = &rc["change"];
        let actions: Vec<&str> = change["actions"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if actions == ["delete"] {
            continue;
        }
        let after = &change["after"];
        let unknown = &change["after_unknown"];
        match kind {
            "aws_api_gateway_stage" | "awscc_apigateway_stage" => {
                let field = if kind == "aws_api_gateway_stage" {
                    "xray_tracing_enabled"
                } else {
                    "tracing_enabled"
                };
                let tracing = if unknown[field] == Value::Bool(true) {
                    Tracing::Unknown(format!("{field} is known only after apply"))
                } else if after[field] == Value::Bool(true) {
                    Tracing::On { note: None }
                } else {
                    Tracing::Off { note: None }
                };
                out.push(PlannedStage {
                    resource: address,
                    resource_type: kind.into(),
                    stage: after["stage_name"].as_str().map(str::to_owned),
                    tracing,
                    tags: tags(after),
                    line: None,
                    note: None,
                    fix: if kind == "aws_api_gateway_stage" {
                        Fix::TerraformStage
                    } else {
                        Fix::TerraformAwscc
                    },
                });
            }
            "aws_api_gateway_deployment" => {
                let Some(stage) = after["stage_name"].as_str().filter(|s| !s.is_empty()) else {
                    continue;
                };
                out.push(PlannedStage {
                    resource: address,
                    resource_type: kind.into(),
                    stage: Some(stage.to_owned()),
                    tracing: Tracing::Off { note: None },
                    tags: BTreeMap::new(),
                    line: None,
                    note: Some(
                        "stage_name on a deployment creates a stage whose tracing cannot be set there".into(),
                    ),
                    fix: Fix::TerraformDeployment,
                });
            }
            _ => {}
        }
    }
    out
}

/// `tags` (else `tags_all`): a map in the aws provider, a list of
/// `{key, value}` in awscc.
fn tags(after: &Value) -> BTreeMap<String, String> {
    let field = if after["tags"].is_null() {
        &after["tags_all"]
    } else {
        &after["tags"]
    };
    match field {
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|t| {
                Some((
                    t["key"].as_str()?.to_owned(),
                    t["value"].as_str()?.to_owned(),
                ))
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}
