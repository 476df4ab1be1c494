//! ASFF findings: built from an evaluation by a pure function, and checked
//! against Security Hub's rules before anything is sent (moto validates
//! almost nothing, and real Security Hub rejects a bad finding only after
//! the fact, one by one).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

pub use crate::evaluate::Compliance;
use crate::evaluate::Evaluation;
use crate::model::{Partition, StageRecord};

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
    pub region: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<String>,
    pub first_observed_at: String,
    pub last_observed_at: String,
    pub created_at: String,
    pub updated_at: String,
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
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingProviderFields {
    pub severity: Severity,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    pub r#type: String,
    pub id: String,
    pub partition: Partition,
    pub region: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub details: ResourceDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceDetails {
    pub aws_api_gateway_stage: StageDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StageDetails {
    pub stage_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub cache_cluster_enabled: bool,
    pub tracing_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_acl_arn: Option<String>,
}

/// Timestamps of a finding that already exists, kept on re-import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstSeen {
    pub created_at: String,
    pub first_observed_at: String,
}

/// ASFF timestamps: RFC 3339, UTC, milliseconds.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The finding's `Id`: deterministic from partition, account, region, API
/// and stage, so reruns and retries update one finding instead of adding one.
pub fn finding_id(stage: &StageRecord) -> String {
    format!(
        "{GENERATOR_ID}/{}/{}/{}/{}/{}",
        stage.partition(),
        stage.account_id,
        stage.region,
        stage.api_id,
        stage.stage_name
    )
}

/// Whether `id` has the shape this product writes for `account` in
/// `region`: `<GeneratorId>/<partition>/<account>/<region>/<apiId>/<stage>`.
/// A finding with our GeneratorId but another Id (an older tool, a hand
/// import) is not ours to update or archive.
pub fn is_our_id(id: &str, account: &str, region: &str) -> bool {
    let prefix = format!(
        "{GENERATOR_ID}/{}/{account}/{region}/",
        crate::model::partition_of(region)
    );
    let Some(rest) = id.strip_prefix(&prefix) else {
        return false;
    };
    let mut parts = rest.split('/');
    let api = parts.next().unwrap_or_default();
    let stage = parts.next().unwrap_or_default();
    parts.next().is_none()
        && !api.is_empty()
        && api.bytes().all(|b| b.is_ascii_alphanumeric())
        && !stage.is_empty()
}

/// With the default product ARN, the importing account must own the
/// finding: one product ARN per member account and region.
pub fn product_arn(partition: Partition, region: &str, account: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default")
}

/// Builds the finding for one evaluated stage. `first_seen` carries the
/// timestamps of the finding already in Security Hub, if any.
pub fn build_finding(
    ev: &Evaluation,
    now: DateTime<Utc>,
    first_seen: Option<&FirstSeen>,
) -> Finding {
    let s = &ev.stage;
    let now = timestamp(now);
    let (created_at, first_observed_at) = match first_seen {
        Some(f) => (f.created_at.clone(), f.first_observed_at.clone()),
        None => (now.clone(), now.clone()),
    };
    // AWS's own control (APIGateway.3) is LOW; passed checks are
    // INFORMATIONAL, as Security Hub's controls report them.
    let label = match ev.compliance {
        Compliance::Failed => SeverityLabel::Low,
        Compliance::Passed => SeverityLabel::Informational,
    };
    let severity = Severity {
        label,
        original: label.as_str().into(),
    };
    let types = vec![FINDING_TYPE.to_owned()];
    let mut fields = BTreeMap::new();
    let mut field = |k: &str, v: String| {
        fields.insert(format!("{FIELD_PREFIX}{k}"), truncate(&v, 2048));
    };
    field("ApiId", s.api_id.clone());
    if let Some(name) = &s.api_name {
        field("ApiName", name.clone());
    }
    field("StageName", s.stage_name.clone());
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

    Finding {
        schema_version: SCHEMA_VERSION.into(),
        id: finding_id(s),
        product_arn: product_arn(s.partition(), &s.region, s.account_id.as_str()),
        product_name: PRODUCT_NAME.into(),
        company_name: COMPANY_NAME.into(),
        region: s.region.clone(),
        generator_id: GENERATOR_ID.into(),
        aws_account_id: s.account_id.to_string(),
        types: types.clone(),
        first_observed_at,
        last_observed_at: now.clone(),
        created_at,
        updated_at: now,
        severity: severity.clone(),
        title: TITLE.into(),
        description: describe(ev),
        remediation: Remediation {
            recommendation: Recommendation {
                text: remediation_text(s),
                url: REMEDIATION_URL.into(),
            },
        },
        product_fields: fields,
        resources: vec![Resource {
            r#type: "AwsApiGatewayStage".into(),
            id: s.arn(),
            partition: s.partition(),
            region: s.region.clone(),
            // ASFF tag values are limited to 256 characters; API Gateway's too.
            tags: s
                .tags
                .iter()
                .map(|(k, v)| (truncate(k, 128), truncate(v, 256)))
                .collect(),
            details: ResourceDetails {
                aws_api_gateway_stage: StageDetails {
                    stage_name: s.stage_name.clone(),
                    deployment_id: s.deployment_id.clone(),
                    description: s.description.as_deref().map(|d| truncate(d, 1024)),
                    cache_cluster_enabled: s.cache_cluster_enabled,
                    tracing_enabled: s.tracing_enabled,
                    created_date: s.created_date.map(timestamp),
                    last_updated_date: s.last_updated_date.map(timestamp),
                    web_acl_arn: s.web_acl_arn.clone(),
                },
            },
        }],
        compliance: ComplianceField {
            status: ev.compliance,
        },
        // An exempted stage is an accepted exception, not an active failure.
        record_state: if ev.exemption.is_some() {
            RecordState::Archived
        } else {
            RecordState::Active
        },
        finding_provider_fields: FindingProviderFields { severity, types },
    }
}

fn describe(ev: &Evaluation) -> String {
    let s = &ev.stage;
    let api = match &s.api_name {
        Some(name) => format!("'{}' ({})", truncate(name, 128), s.api_id),
        None => s.api_id.clone(),
    };
    let exemption = |e: &crate::exempt::Exemption| {
        let until = e.until.map(|d| format!(" until {d}")).unwrap_or_default();
        format!(
            "{}{until} ({}): {}",
            "exempted",
            e.source,
            truncate(&e.reason, 512)
        )
    };
    let text = match ev.compliance {
        Compliance::Failed => {
            let mut t = format!(
                "Stage '{}' of REST API {api} in account {} region {} does not have X-Ray active tracing \
                 enabled (tracingEnabled is false or unset). Requests through this stage leave no trace, \
                 so a failure along the request path cannot be followed end to end.",
                s.stage_name, s.account_id, s.region
            );
            if let Some(e) = &ev.exemption {
                t = format!("{} {t}", capitalise(&exemption(e)));
            } else if let Some(e) = &ev.lapsed {
                t = format!("{t} Its exemption lapsed: {}.", exemption(e));
            }
            t
        }
        Compliance::Passed => format!(
            "Stage '{}' of REST API {api} in account {} region {} has X-Ray active tracing enabled.",
            s.stage_name, s.account_id, s.region
        ),
    };
    truncate(&text, 1024)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The exact command that fixes this stage.
pub fn remediation_text(s: &StageRecord) -> String {
    format!(
        "Turn on X-Ray active tracing for this stage: aws apigateway update-stage --region {} \
         --rest-api-id {} --stage-name {} --patch-operations op=replace,path=/tracingEnabled,value=true \
         (or set TracingEnabled: true on the stage in its CloudFormation, SAM or Terraform source).",
        s.region,
        shell_word(&s.api_id),
        shell_word(&s.stage_name)
    )
}

/// Quotes a word for a POSIX shell unless it is plainly safe.
fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Cuts `s` to at most `max` characters, marking the cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

mod validate;
pub use validate::{validate, FindingProblem, InvalidFinding, MAX_FINDING_BYTES};

#[cfg(test)]
mod tests;
