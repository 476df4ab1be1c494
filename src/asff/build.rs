//! What the three rules' findings of one stage share: Id, product, times,
//! severity, types and requirements. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{
    finding_time, first_times, severity_of, Compliance, ComplianceField, Finding,
    FindingProviderFields, FirstSeen, Recommendation, RecordState, Remediation, Resource,
    COMPANY_NAME, FINDING_TYPE, PRODUCT_NAME, RELATED_REQUIREMENTS, SCHEMA_VERSION,
};

/// What the three rules' findings of one stage do not share; [`finding`]
/// adds what they do (Id, product, times, severity, requirements).
pub(crate) struct Parts<'a> {
    pub stage: &'a crate::model::StageRecord,
    pub generator: &'static str,
    pub title: &'static str,
    pub description: String,
    pub remediation_text: String,
    pub remediation_url: &'static str,
    pub fields: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
    pub compliance: Compliance,
    pub record_state: RecordState,
}

/// A finding of one stage under one rule. `first_seen` carries the
/// timestamps of the finding already in Security Hub, if any.
pub(crate) fn finding(
    parts: Parts<'_>,
    now: DateTime<Utc>,
    first_seen: Option<&FirstSeen>,
) -> Finding {
    let p = &parts.stage.place;
    let now = finding_time(now);
    let (created_at, first_observed_at) = first_times(now, first_seen);
    let severity = severity_of(parts.compliance);
    let types = vec![FINDING_TYPE.to_owned()];
    Finding {
        schema_version: SCHEMA_VERSION.into(),
        id: p.finding_id(parts.generator),
        product_arn: p.account_region().product_arn(),
        product_name: PRODUCT_NAME.into(),
        company_name: COMPANY_NAME.into(),
        region: p.region,
        generator_id: parts.generator.into(),
        aws_account_id: p.account.clone(),
        types: types.clone(),
        first_observed_at,
        last_observed_at: now,
        created_at,
        updated_at: now,
        severity: severity.clone(),
        title: parts.title.into(),
        description: parts.description,
        remediation: Remediation {
            recommendation: Recommendation {
                text: parts.remediation_text,
                url: parts.remediation_url.into(),
            },
        },
        product_fields: parts.fields,
        resources: parts.resources,
        compliance: ComplianceField {
            status: parts.compliance,
            related_requirements: RELATED_REQUIREMENTS
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
        },
        record_state: parts.record_state,
        finding_provider_fields: FindingProviderFields { severity, types },
    }
}

/// `ProductFields` under the project's prefix, each value within ASFF's
/// limit: the stage's own (ApiId, ApiName, StageName) first, then what the
/// rule adds through `put`.
pub(crate) struct Fields(pub BTreeMap<String, String>);

impl Fields {
    pub(crate) fn of_stage(s: &crate::model::StageRecord) -> Self {
        let mut f = Self(BTreeMap::new());
        f.put("ApiId", s.place.api_id.clone());
        if let Some(name) = &s.api_name {
            f.put("ApiName", name.clone());
        }
        f.put("StageName", s.place.stage.clone());
        f
    }

    pub(crate) fn put(&mut self, k: &str, v: String) {
        self.0.insert(
            format!("{}{k}", super::FIELD_PREFIX),
            crate::model::cut_to(&v, 2048),
        );
    }
}
