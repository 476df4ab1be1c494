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

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::plan_path::{self, config_module, config_resource, Functions};
use super::plan_sampling;
use super::{Fix, PlannedStage, Tracing};

/// The top-level fields that tell a plan from a state or anything else,
/// borrowed from the text and never built into a tree: a large plan costs
/// about its own size in memory, not twenty times it.
#[derive(Debug, Default, Deserialize)]
pub struct Probe<'a> {
    #[serde(borrow, default)]
    format_version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    terraform_version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    lineage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    serial: Option<&'a RawValue>,
    #[serde(borrow, default)]
    values: Option<&'a RawValue>,
    #[serde(borrow, default)]
    planned_values: Option<&'a RawValue>,
    #[serde(borrow, default)]
    resource_changes: Option<&'a RawValue>,
    /// Read only when an awscc stage's tracing is unknown (see `configured`).
    #[serde(borrow, default)]
    configuration: Option<&'a RawValue>,
}

/// One entry of `resource_changes`: its `change` is parsed only for the
/// resource types `check` judges.
#[derive(Debug, Deserialize)]
struct ResourceChange<'a> {
    #[serde(default)]
    address: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    module_address: Option<String>,
    #[serde(borrow, default)]
    change: Option<&'a RawValue>,
}

/// What a JSON document is, to Terraform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// Not Terraform's: perhaps a template.
    Other,
    /// A plan (`terraform show -json PLANFILE`), with warnings.
    Plan(Vec<String>),
    /// Terraform's, but not a plan this tool can judge, and why.
    Refused(String),
}

/// Plan JSON format versions this tool knows (HashiCorp: "JSON Output
/// Format"; a new major version may change the fields read here).
const KNOWN_MAJOR: &[&str] = &["0", "1"];

/// Whether `doc` is a plan, a state or neither. A state names no change to
/// come, so it can neither pass nor fail a gate: it is refused, never
/// read as an empty plan.
pub fn classify(doc: &Probe<'_>) -> Document {
    if doc.lineage.is_some() && doc.serial.is_some() {
        return Document::Refused(
            "is a Terraform state file, not a plan; check a plan: terraform plan -out tfplan && terraform show -json tfplan".into(),
        );
    }
    let terraform = doc.format_version.is_some() && doc.terraform_version.is_some();
    if !terraform && doc.resource_changes.is_none() {
        return Document::Other;
    }
    if terraform
        && doc.values.is_some()
        && doc.planned_values.is_none()
        && doc.resource_changes.is_none()
    {
        return Document::Refused(
            "is a Terraform state (terraform show -json without a plan file), not a plan".into(),
        );
    }
    let changes = doc.resource_changes.map(|r| r.get().trim_start());
    if changes.is_some_and(|c| !c.starts_with('[') && c != "null") {
        return Document::Refused("is a malformed plan: resource_changes is not an array".into());
    }
    let mut warnings = Vec::new();
    let version: Option<String> = doc
        .format_version
        .and_then(|v| serde_json::from_str(v.get()).ok());
    match version.as_deref() {
        Some(v) if KNOWN_MAJOR.contains(&v.split('.').next().unwrap_or_default()) => {}
        Some(v) => warnings.push(format!(
            "plan format_version {} is newer than this tool knows (0.x and 1.x); read as 1.x",
            crate::model::quote(v)
        )),
        None => warnings.push("the plan has no format_version; read as 1.x".into()),
    }
    Document::Plan(warnings)
}

/// The resource types whose changes `check` reads.
const JUDGED: [&str; 3] = [
    "aws_api_gateway_stage",
    "awscc_apigateway_stage",
    "aws_api_gateway_deployment",
];

pub fn stages(doc: &Probe<'_>) -> Vec<PlannedStage> {
    let Some(raw) = doc.resource_changes else {
        return Vec::new();
    };
    let Ok(changes) = serde_json::from_str::<Vec<ResourceChange<'_>>>(raw.get()) else {
        return Vec::new();
    };
    let parse = |rc: &ResourceChange<'_>| -> Value {
        rc.change
            .and_then(|c| serde_json::from_str(c.get()).ok())
            .unwrap_or(Value::Null)
    };
    // The planned functions, for the stages' trace paths.
    let mut functions = Functions::default();
    for rc in changes.iter().filter(|rc| rc.kind == "aws_lambda_function") {
        let change = parse(rc);
        if change["actions"] != serde_json::json!(["delete"]) {
            functions.add(rc.module_address.as_deref(), &rc.name, &rc.address, change);
        }
    }
    // The planned sampling rules (the account's, whichever module plans
    // them) and REST API names, for the stages' sampling verdicts.
    let mut rules = Vec::new();
    let mut api_names = plan_sampling::ApiNames::default();
    for rc in &changes {
        match rc.kind.as_str() {
            "aws_xray_sampling_rule" => {
                let change = parse(rc);
                if change["actions"] != serde_json::json!(["delete"]) {
                    rules.push(plan_sampling::rule_of(&change, &rc.address));
                }
            }
            "aws_api_gateway_rest_api" => {
                api_names.add(rc.module_address.as_deref(), &rc.name, &parse(rc));
            }
            _ => {}
        }
    }
    let rules: std::rc::Rc<[_]> = rules.into();
    let mut out = Vec::new();
    // Parsed once, and only when a stage needs it.
    let mut configuration: Option<Value> = None;
    let config = || -> Value {
        doc.configuration
            .and_then(|c| serde_json::from_str(c.get()).ok())
            .unwrap_or(Value::Null)
    };
    for rc in changes
        .iter()
        .filter(|rc| JUDGED.contains(&rc.kind.as_str()))
    {
        let change = parse(rc);
        let Some(mut stage) = judged(&rc.kind, rc.address.clone(), &change) else {
            continue;
        };
        // awscc's tracing_enabled is Optional and Computed: unset, it shows
        // as known after apply, and CloudFormation creates the stage with
        // tracing off. Only the configuration tells unset from computed.
        if rc.kind == "awscc_apigateway_stage" && matches!(stage.tracing, Tracing::Unknown(_)) {
            let config = configuration.get_or_insert_with(config);
            let module = config_module(config, rc.module_address.as_deref());
            let set = config_resource(module, &rc.kind, &rc.name)
                .map(|r| r["expressions"].get("tracing_enabled").is_some());
            if set == Some(false) {
                stage.tracing = Tracing::Off {
                    note: Some(
                        "tracing_enabled is not set; CloudFormation's default is off".into(),
                    ),
                };
            }
        }
        if !functions.is_empty() {
            let config = configuration.get_or_insert_with(config);
            stage.path = plan_path::behind(
                config,
                rc.module_address.as_deref(),
                &rc.kind,
                &rc.name,
                &functions,
            );
        }
        if !rules.is_empty() {
            let config = configuration.get_or_insert_with(config);
            stage.sampling = super::sampling::StageSampling {
                api_name: api_names.of_stage(
                    config,
                    rc.module_address.as_deref(),
                    &rc.kind,
                    &rc.name,
                ),
                rules: rules.clone(),
            };
        }
        out.push(stage);
    }
    out
}

/// The stage one judged resource change creates, if any.
fn judged(kind: &str, address: String, change: &Value) -> Option<PlannedStage> {
    let actions: Vec<&str> = change["actions"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if actions == ["delete"] {
        return None;
    }
    let after = &change["after"];
    let unknown = &change["after_unknown"];
    if kind == "aws_api_gateway_deployment" {
        // A stage_name known only after apply still makes a stage.
        let stage = if unknown["stage_name"] == Value::Bool(true) {
            None
        } else {
            Some(after["stage_name"].as_str().filter(|s| !s.is_empty())?)
        };
        return Some(PlannedStage {
            resource: address,
            resource_type: kind.into(),
            stage: stage.map(str::to_owned),
            tracing: Tracing::Off { note: None },
            tags: BTreeMap::new(),
            line: None,
            note: Some(
                "stage_name on a deployment creates a stage whose tracing cannot be set there"
                    .into(),
            ),
            fix: Fix::TerraformDeployment,
            path: Vec::new(),
            sampling: Default::default(),
        });
    }
    let (field, fix) = if kind == "aws_api_gateway_stage" {
        ("xray_tracing_enabled", Fix::TerraformStage)
    } else {
        ("tracing_enabled", Fix::TerraformAwscc)
    };
    let tracing = if unknown[field] == Value::Bool(true) {
        Tracing::Unknown(format!("{field} is known only after apply"))
    } else if after[field] == Value::Bool(true) {
        Tracing::On { note: None }
    } else {
        Tracing::Off { note: None }
    };
    Some(PlannedStage {
        resource: address,
        resource_type: kind.into(),
        stage: after["stage_name"].as_str().map(str::to_owned),
        tracing,
        tags: tags(after),
        line: None,
        note: None,
        fix,
        path: Vec::new(),
        sampling: Default::default(),
    })
}

/// `tags_all` (the provider's `default_tags` included, as the stage is
/// tagged) overlaid with `tags`: a map in the aws provider, a list of
/// `{key, value}` in awscc.
fn tags(after: &Value) -> BTreeMap<String, String> {
    let pairs = |field: &Value| -> BTreeMap<String, String> {
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
    };
    let mut out = pairs(&after["tags_all"]);
    out.extend(pairs(&after["tags"]));
    out
}
