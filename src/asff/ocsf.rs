//! The same finding as an OCSF Compliance Finding (class 2003), for tools
//! that take OCSF rather than ASFF (`scan --format ocsf`): the same status,
//! resource, requirements and remediation. Pure. Fields follow OCSF 1.x as
//! the `py-ocsf-models` models describe them (a test validates every event
//! with them, offline).

use serde_json::{json, Value};

use super::{Compliance, Finding, RecordState, SeverityLabel};

/// The OCSF schema version these events follow.
pub const OCSF_VERSION: &str = "1.3.0";
/// The standard the requirements belong to.
pub const STANDARD: &str = "NIST.800-53.r5";

/// One OCSF Compliance Finding event for `f`.
pub fn compliance_finding(f: &Finding) -> Value {
    let ms = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis();
    let (severity_id, severity) = match f.severity.label {
        SeverityLabel::Informational => (1, "Informational"),
        SeverityLabel::Low => (2, "Low"),
        SeverityLabel::Medium => (3, "Medium"),
        SeverityLabel::High => (4, "High"),
        SeverityLabel::Critical => (5, "Critical"),
    };
    // The finding's own status: open while it fails, suppressed when an
    // exemption archived it, resolved once it passes.
    let (status_id, status) = match (f.compliance.status, f.record_state) {
        (Compliance::Passed, _) => (4, "Resolved"),
        (Compliance::Failed | Compliance::Warning, RecordState::Archived) => (3, "Suppressed"),
        (Compliance::Failed | Compliance::Warning, RecordState::Active) => (1, "New"),
    };
    let compliance_status = match f.compliance.status {
        Compliance::Passed => 1,
        Compliance::Warning => 2,
        Compliance::Failed => 3,
    };
    let resources: Vec<Value> = f
        .resources
        .iter()
        .map(|r| {
            let labels: Vec<String> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let (name, data) = match (
                &r.details.aws_api_gateway_stage,
                &r.details.aws_lambda_function,
            ) {
                (Some(s), _) => (
                    s.stage_name.clone(),
                    json!({"tracing_enabled": s.tracing_enabled}),
                ),
                (None, Some(f)) => (
                    f.function_name.clone(),
                    json!({"tracing_mode": f.tracing_config.as_ref().map(|t| t.mode.as_str())}),
                ),
                (None, None) => (String::new(), json!({})),
            };
            json!({
                "uid": r.id,
                "type": r.r#type,
                "name": name,
                "region": r.region,
                "cloud_partition": r.partition,
                "labels": labels,
                "data": data,
            })
        })
        .collect();
    json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2003,
        "class_name": "Compliance Finding",
        "type_uid": 200301,
        "type_name": "Compliance Finding: Create",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "time": ms(f.updated_at),
        "message": f.title,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": f.id,
            "product": {
                "name": f.product_name,
                "vendor_name": f.company_name,
                "version": env!("CARGO_PKG_VERSION"),
                "uid": f.generator_id,
            },
            "tenant_uid": f.aws_account_id,
        },
        "finding_info": {
            "uid": f.id,
            "title": f.title,
            "desc": f.description,
            "types": f.types,
            "created_time": ms(f.created_at),
            "first_seen_time": ms(f.first_observed_at),
            "last_seen_time": ms(f.last_observed_at),
            "modified_time": ms(f.updated_at),
        },
        "compliance": {
            "control": f.generator_id,
            "standards": [STANDARD],
            "requirements": f.compliance.related_requirements,
            "status_id": compliance_status,
        },
        "resources": resources,
        "remediation": {
            "desc": f.remediation.recommendation.text,
            "references": [f.remediation.recommendation.url],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asff::build_finding;
    use apigw_tracing_rule::testing::{eval, stage};

    #[test]
    fn status_resource_and_remediation_are_the_findings() {
        let f = build_finding(
            &eval(stage("abc123", "prod", false)),
            chrono::Utc::now(),
            None,
        );
        let e = compliance_finding(&f);
        assert_eq!(
            (e["class_uid"].clone(), e["type_uid"].clone()),
            (json!(2003), json!(200301))
        );
        assert_eq!(
            (e["status"].clone(), e["compliance"]["status_id"].clone()),
            (json!("New"), json!(3))
        );
        assert_eq!(e["resources"][0]["uid"], f.resources[0].id.as_str());
        assert_eq!(
            e["remediation"]["desc"],
            f.remediation.recommendation.text.as_str()
        );
        assert_eq!(
            e["compliance"]["requirements"],
            json!(["NIST.800-53.r5 CA-7"])
        );
        let passed = build_finding(
            &eval(stage("abc123", "prod", true)),
            chrono::Utc::now(),
            None,
        );
        let p = compliance_finding(&passed);
        assert_eq!(
            (p["status"].clone(), p["compliance"]["status_id"].clone()),
            (json!("Resolved"), json!(1))
        );
        assert_eq!(
            p["finding_info"]["uid"], e["finding_info"]["uid"],
            "one finding, one uid"
        );
    }
}
