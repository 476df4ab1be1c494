//! The sampling finding: one per traced stage, its own GeneratorId and Id,
//! the stage as `Resources[0]` (as in the stage finding). It says whether
//! the account-region's X-Ray sampling rules record the stage's requests,
//! naming the rule that decides. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{finding, stage_resource, Compliance, Fields, Finding, FirstSeen, Parts, RecordState};
use crate::model::{cut_to, StageRef};
use crate::sampling::{fix_command, Recording, SamplingEvaluation, SamplingStatus};

pub const SAMPLING_GENERATOR_ID: &str = "apigw-tracing/sampling";
pub const SAMPLING_TITLE: &str =
    "X-Ray sampling rules should record requests to a traced API Gateway stage";
const SAMPLING_REMEDIATION_URL: &str =
    "https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html";

/// The sampling finding `Id` of a stage.
pub fn sampling_finding_id(stage: &StageRef) -> String {
    stage.finding_id(SAMPLING_GENERATOR_ID)
}

/// The finding for a judged stage; `None` for UNKNOWN (the rules could not
/// be read): its finding, if any, is left exactly as it was.
pub fn build_sampling_finding(
    ev: &SamplingEvaluation,
    now: DateTime<Utc>,
    first_seen: Option<&FirstSeen>,
) -> Option<Finding> {
    let compliance = match ev.verdict.status {
        SamplingStatus::Passed => Compliance::Passed,
        SamplingStatus::Warning => Compliance::Warning,
        SamplingStatus::Failed => Compliance::Failed,
        SamplingStatus::Unknown => return None,
    };
    let decided = ev.verdict.decided.as_ref()?;
    let s = &ev.stage;
    let text = match compliance {
        Compliance::Passed => format!(
            "No change needed: sampling rule '{}' records this stage's requests.",
            decided.rule.name
        ),
        _ => format!(
            "Make the deciding rule record: {} (1 request a second, then 5 %, the Default \
             rule's values), or delete the rule if it was meant for another service.",
            fix_command(&decided.rule.name, s.place.region.as_str())
        ),
    };
    let parts = Parts {
        stage: s,
        generator: SAMPLING_GENERATOR_ID,
        title: SAMPLING_TITLE,
        description: describe(ev),
        remediation_text: cut_to(&text, 512),
        remediation_url: SAMPLING_REMEDIATION_URL,
        fields: fields(ev),
        resources: vec![stage_resource(s)],
        compliance,
        record_state: RecordState::Active,
    };
    Some(finding(parts, now, first_seen))
}

fn describe(ev: &SamplingEvaluation) -> String {
    let Some(d) = &ev.verdict.decided else {
        return String::new();
    };
    let p = &ev.stage.place;
    let api = match &ev.stage.api_name {
        Some(name) => format!("'{}' ({})", cut_to(name, 128), p.api_id),
        None => p.api_id.clone(),
    };
    let stage = format!(
        "Stage '{}' of REST API {api} in account {} region {} has X-Ray tracing on",
        p.stage, p.account, p.region
    );
    let front: Vec<String> = d
        .in_front
        .iter()
        .map(|(r, rec)| {
            let what = match rec {
                Recording::Nothing => "records none of them",
                Recording::BoostOnly => "records them only on anomalies",
                Recording::Records => "records some of them",
            };
            format!(
                "{} takes requests with {} and {what}",
                r.label(),
                r.conditions()
            )
        })
        .collect();
    let front = match front.is_empty() {
        true => String::new(),
        false => format!(" In front of it: {}.", front.join("; ")),
    };
    let verdict = match ev.verdict.status {
        SamplingStatus::Passed => format!(
            ", and sampling rule {} decides its requests and records them.",
            d.rule.label()
        ),
        SamplingStatus::Failed => format!(
            ", but sampling rule {} decides its requests and records none: the stage is as blind \
             as with tracing off.",
            d.rule.label()
        ),
        SamplingStatus::Warning if d.recording == Recording::BoostOnly => format!(
            ", but sampling rule {} decides its requests and records them only when X-Ray boosts \
             the rate on anomalies.",
            d.rule.label()
        ),
        _ => format!(
            ", but sampling rule {} decides its requests and records none: only the requests an \
             earlier conditional rule takes are traced.",
            d.rule.label()
        ),
    };
    let evidence = ev
        .evidence
        .as_ref()
        .map(|e| format!(" {e}."))
        .unwrap_or_default();
    cut_to(&format!("{stage}{verdict}{front}{evidence}"), 1024)
}

fn fields(ev: &SamplingEvaluation) -> BTreeMap<String, String> {
    let mut fields = Fields::of_stage(&ev.stage);
    let mut field = |k: &str, v: String| fields.put(k, v);
    if let Some(d) = &ev.verdict.decided {
        field("SamplingRule", d.rule.name.clone());
        let order: Vec<&str> = d
            .in_front
            .iter()
            .map(|(r, _)| r.name.as_str())
            .chain([d.rule.name.as_str()])
            .collect();
        field("SamplingRules", order.join(", "));
    }
    if let Some(e) = &ev.evidence {
        field("SamplingEvidence", e.clone());
    }
    fields.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asff::FIELD_PREFIX;
    use crate::sampling::{evaluate, SamplingRule};
    use apigw_tracing_rule::testing::stage;

    fn rule(name: &str, priority: i64, reservoir: f64, rate: f64) -> SamplingRule {
        SamplingRule {
            name: name.into(),
            priority: Some(priority),
            reservoir: Some(reservoir),
            rate: Some(rate),
            ..SamplingRule::aws_default()
        }
    }

    #[test]
    fn a_blind_stage_names_the_rule_its_values_and_the_command_that_fixes_it() {
        let health = SamplingRule {
            url_path: Some("/health".into()),
            ..rule("health", 1, 0.0, 0.0)
        };
        let rules = [health, rule("quiet", 50, 0.0, 0.0)];
        let ev = evaluate(stage("api1", "prod", true), &rules, &BTreeMap::new());
        let f = build_sampling_finding(&ev, Utc::now(), None).unwrap();
        assert_eq!(f.generator_id, SAMPLING_GENERATOR_ID);
        assert_eq!(
            f.id,
            "apigw-tracing/sampling/aws/111111111111/eu-west-1/api1/prod"
        );
        assert_eq!(f.compliance.status, Compliance::Failed);
        assert_eq!(f.resources.len(), 1);
        assert_eq!(f.resources[0].r#type, "AwsApiGatewayStage");
        assert!(
            f.description
                .contains("'quiet' (priority 50, reservoir 0/s, rate 0) decides"),
            "{}",
            f.description
        );
        assert!(
            f.description.contains("URLPath /health"),
            "{}",
            f.description
        );
        assert_eq!(
            f.product_fields[&format!("{FIELD_PREFIX}SamplingRule")],
            "quiet"
        );
        assert_eq!(
            f.product_fields[&format!("{FIELD_PREFIX}SamplingRules")],
            "health, quiet"
        );
        assert!(f
            .remediation
            .recommendation
            .text
            .contains("aws xray update-sampling-rule --region eu-west-1"));
        assert!(
            super::super::validate(&f).is_ok(),
            "{:?}",
            super::super::validate(&f)
        );
    }

    #[test]
    fn warning_and_passed_build_and_unknown_builds_nothing() {
        let boost = SamplingRule {
            boost: crate::sampling::Boost::MaxRate(0.5),
            ..rule("Default", 10_000, 0.0, 0.0)
        };
        let ev = evaluate(stage("api1", "prod", true), &[boost], &BTreeMap::new());
        let f = build_sampling_finding(&ev, Utc::now(), None).unwrap();
        assert_eq!(f.compliance.status, Compliance::Warning);
        assert!(f.description.contains("only when X-Ray boosts"));
        let ev = evaluate(stage("api1", "prod", true), &[], &BTreeMap::new());
        let f = build_sampling_finding(&ev, Utc::now(), None).unwrap();
        assert_eq!(f.compliance.status, Compliance::Passed);
        let unknown = SamplingEvaluation {
            verdict: crate::sampling::SamplingVerdict::unknown("AccessDenied"),
            ..ev
        };
        assert_eq!(build_sampling_finding(&unknown, Utc::now(), None), None);
    }
}
