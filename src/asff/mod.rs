//! ASFF findings: built from an evaluation by a pure function, and checked
//! against Security Hub's rules before anything is sent (moto validates
//! almost nothing, and real Security Hub rejects a bad finding only after
//! the fact, one by one).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::evaluate::Compliance;
use crate::evaluate::Evaluation;
use crate::model::{cut_to, AccountId, AccountRegion, Region, StageRef};

pub const SCHEMA_VERSION: &str = "2018-10-08";
pub const GENERATOR_ID: &str = "apigw-tracing/xray-active-tracing";
pub const PRODUCT_NAME: &str = "apigw-tracing";
pub const COMPANY_NAME: &str = "apigw-tracing";
pub const FINDING_TYPE: &str = "Software and Configuration Checks/AWS Security Best Practices";
pub const TITLE: &str = "API Gateway REST API stages should have AWS X-Ray active tracing enabled";
pub const REMEDIATION_URL: &str =
    "https://docs.aws.amazon.com/xray/latest/devguide/xray-services-apigateway.html";
/// `ProductFields` keys are `<company>/<product>/<field>`; `aws/` is reserved.
pub const FIELD_PREFIX: &str = "apigw-tracing/scanner/";

/// One finding, serialised exactly as ASFF (`--format asff` prints these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub product_name: String,
    pub company_name: String,
    pub region: Region,
    pub generator_id: String,
    pub aws_account_id: AccountId,
    pub types: Vec<String>,
    #[serde(with = "ts")]
    pub first_observed_at: DateTime<Utc>,
    #[serde(with = "ts")]
    pub last_observed_at: DateTime<Utc>,
    #[serde(with = "ts")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "ts")]
    pub updated_at: DateTime<Utc>,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub remediation: Remediation,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
    pub compliance: ComplianceField,
    pub record_state: RecordState,
    pub finding_provider_fields: FindingProviderFields,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Severity {
    pub label: SeverityLabel,
    pub original: String,
}

/// ASFF's severity labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeverityLabel {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityLabel {
    pub const ALL: [SeverityLabel; 5] = [
        SeverityLabel::Informational,
        SeverityLabel::Low,
        SeverityLabel::Medium,
        SeverityLabel::High,
        SeverityLabel::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLabel::Informational => "INFORMATIONAL",
            SeverityLabel::Low => "LOW",
            SeverityLabel::Medium => "MEDIUM",
            SeverityLabel::High => "HIGH",
            SeverityLabel::Critical => "CRITICAL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Remediation {
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recommendation {
    pub text: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComplianceField {
    pub status: Compliance,
    /// The framework controls the rule maps to, as Security Hub writes them
    /// for its own controls (APIGateway.3 and Lambda.7: NIST.800-53.r5 CA-7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_requirements: Vec<String>,
}

/// What this product's rules map to: continuous monitoring (NIST SP
/// 800-53 rev. 5, CA-7), as AWS maps APIGateway.3 and Lambda.7.
pub const RELATED_REQUIREMENTS: &[&str] = &["NIST.800-53.r5 CA-7"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordState {
    Active,
    Archived,
}

impl RecordState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Active => "ACTIVE",
            RecordState::Archived => "ARCHIVED",
        }
    }
}

/// Timestamps of a finding that already exists, kept on re-import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstSeen {
    pub created_at: DateTime<Utc>,
    pub first_observed_at: DateTime<Utc>,
}

impl From<&Finding> for FirstSeen {
    fn from(f: &Finding) -> Self {
        Self {
            created_at: f.created_at,
            first_observed_at: f.first_observed_at,
        }
    }
}

/// The finding `Id` of a stage (see [`StageRef::finding_id`]).
pub fn finding_id(stage: &StageRef) -> String {
    stage.finding_id(GENERATOR_ID)
}

/// The stage a finding `Id` of this product names, if it has that shape.
pub fn stage_of_id(id: &str) -> Option<StageRef> {
    StageRef::from_finding_id(GENERATOR_ID, id)
}

/// This product's GeneratorIds: the stage rule, the trace path, sampling.
pub const GENERATOR_IDS: [&str; 3] = [GENERATOR_ID, PATH_GENERATOR_ID, SAMPLING_GENERATOR_ID];

/// Whether `id` has the shape this product writes for `at` under
/// `generator`. A finding with our GeneratorId but another Id (an older
/// tool, a hand import) is not ours to update or archive.
pub fn is_our_id(generator: &str, id: &str, at: &AccountRegion) -> bool {
    GENERATOR_IDS.contains(&generator)
        && StageRef::from_finding_id(generator, id)
            .is_some_and(|s| s.account == at.account && s.region == at.region)
}

/// `CreatedAt` and `FirstObservedAt`: kept from the finding already in
/// Security Hub, else now.
fn first_times(
    now: DateTime<Utc>,
    first_seen: Option<&FirstSeen>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    match first_seen {
        Some(f) => (f.created_at, f.first_observed_at),
        None => (now, now),
    }
}

/// AWS's own controls for both rules (APIGateway.3, Lambda.7) are LOW;
/// passed checks are INFORMATIONAL, as Security Hub's controls report them.
fn severity_of(compliance: Compliance) -> Severity {
    let label = match compliance {
        // Partly seen is still a gap in what is recorded: LOW, not hidden
        // among the INFORMATIONAL passes.
        Compliance::Failed | Compliance::Warning => SeverityLabel::Low,
        Compliance::Passed => SeverityLabel::Informational,
    };
    Severity {
        label,
        original: label.as_str().into(),
    }
}

/// Builds the finding for one evaluated stage. `first_seen` carries the
/// timestamps of the finding already in Security Hub, if any.
pub fn build_finding(
    ev: &Evaluation,
    now: DateTime<Utc>,
    first_seen: Option<&FirstSeen>,
) -> Finding {
    let s = &ev.stage;
    let p = &s.place;
    let mut fields = Fields::of_stage(s);
    let mut field = |k: &str, v: String| fields.put(k, v);
    field("TracingEnabled", s.tracing_enabled.to_string());
    if let Some(e) = &ev.exemption {
        field("Exempt", "true".into());
        field("ExemptionReason", e.reason.clone());
        field("ExemptionSource", e.source.to_string());
        if let Some(until) = e.until {
            field("ExemptUntil", until.to_string());
        }
    }
    if let Some(e) = &ev.lapsed {
        field(
            "ExemptionLapsed",
            e.until.map(|d| d.to_string()).unwrap_or_default(),
        );
    }

    let parts = Parts {
        stage: s,
        generator: GENERATOR_ID,
        title: TITLE,
        description: describe(ev),
        remediation_text: remediation_text(p),
        remediation_url: REMEDIATION_URL,
        fields: fields.0,
        resources: vec![stage_resource(s)],
        compliance: ev.compliance,
        // An exempted stage is an accepted exception, not an active failure.
        record_state: if ev.exemption.is_some() {
            RecordState::Archived
        } else {
            RecordState::Active
        },
    };
    finding(parts, now, first_seen)
}

/// The stage as an ASFF resource: `Resources[0]` of both the stage finding
/// and the trace-path finding.
pub fn stage_resource(s: &crate::model::StageRecord) -> Resource {
    let p = &s.place;
    Resource {
        r#type: "AwsApiGatewayStage".into(),
        id: p.arn(),
        partition: p.partition(),
        region: p.region,
        // ASFF tag values are limited to 256 characters; API Gateway's too.
        tags: s
            .tags
            .iter()
            .map(|(k, v)| (cut_to(k, 128), cut_to(v, 256)))
            .collect(),
        details: ResourceDetails {
            aws_api_gateway_stage: Some(StageDetails {
                stage_name: p.stage.clone(),
                deployment_id: s.deployment_id.clone(),
                description: s.description.as_deref().map(|d| cut_to(d, 1024)),
                cache_cluster_enabled: s.cache_cluster_enabled,
                tracing_enabled: s.tracing_enabled,
                created_date: s.created_date.map(finding_time),
                last_updated_date: s.last_updated_date.map(finding_time),
                web_acl_arn: s.web_acl_arn.clone(),
            }),
            aws_lambda_function: None,
        },
    }
}

fn describe(ev: &Evaluation) -> String {
    let s = &ev.stage;
    let p = &s.place;
    let api = match &s.api_name {
        Some(name) => format!("'{}' ({})", cut_to(name, 128), p.api_id),
        None => p.api_id.clone(),
    };
    let exemption = |e: &crate::exempt::Exemption| {
        let until = e.until.map(|d| format!(" until {d}")).unwrap_or_default();
        format!(
            "{}{until} ({}): {}",
            "exempted",
            e.source,
            cut_to(&e.reason, 512)
        )
    };
    let text = match ev.compliance {
        Compliance::Failed => {
            let mut t = format!(
                "Stage '{}' of REST API {api} in account {} region {} does not have X-Ray active tracing \
                 enabled (tracingEnabled is false or unset). Requests through this stage leave no trace, \
                 so a failure along the request path cannot be followed end to end.",
                p.stage, p.account, p.region
            );
            if let Some(e) = &ev.exemption {
                t = format!("{} {t}", capitalise(&exemption(e)));
            } else if let Some(e) = &ev.lapsed {
                t = format!("{t} Its exemption lapsed: {}.", exemption(e));
            }
            t
        }
        // The stage rule never warns.
        Compliance::Passed | Compliance::Warning => format!(
            "Stage '{}' of REST API {api} in account {} region {} has X-Ray active tracing enabled.",
            p.stage, p.account, p.region
        ),
    };
    cut_to(&text, 1024)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The exact command that fixes this stage.
pub fn remediation_text(s: &StageRef) -> String {
    format!(
        "Turn on X-Ray active tracing for this stage: {} \
         (or set TracingEnabled: true on the stage in its CloudFormation, SAM or Terraform source).",
        crate::model::fix_command(s)
    )
}

pub mod ocsf;
mod resource;
pub use resource::{
    FindingProviderFields, LambdaDetails, LambdaTracingConfig, Resource, ResourceDetails,
    StageDetails,
};
mod path;
pub use path::{build_path_finding, path_finding_id, PATH_GENERATOR_ID, PATH_TITLE};
mod build;
pub(crate) use build::{finding, Fields, Parts};
mod estimate;
pub use estimate::price;
mod sampling;
pub use sampling::{
    build_sampling_finding, sampling_finding_id, SAMPLING_GENERATOR_ID, SAMPLING_TITLE,
};
mod time;
pub use time::{finding_time, parse_timestamp, timestamp, ts, ts_opt};
mod validate;
pub use validate::{validate, FindingProblem, InvalidFinding, MAX_FINDING_BYTES};

#[cfg(test)]
mod tests;
