//! The trace-path finding: one per traced stage, its own GeneratorId and
//! Id, the stage as `Resources[0]` (as in the stage finding) and the
//! functions behind it after it. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{
    finding, stage_resource, Compliance, Fields, Finding, FirstSeen, LambdaDetails,
    LambdaTracingConfig, Parts, RecordState, Resource, ResourceDetails,
};
use crate::model::{cut_to, StageRef};
use crate::trace_path::{FunctionMode, PathEvaluation, PathFunction, PathStatus};

pub const PATH_GENERATOR_ID: &str = "apigw-tracing/trace-path";
pub const PATH_TITLE: &str =
    "Lambda functions behind a traced API Gateway stage should have X-Ray active tracing";
const PATH_REMEDIATION_URL: &str =
    "https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html";
/// ASFF allows 32 resources per finding; the stage is the first.
const MAX_FUNCTION_RESOURCES: usize = 31;

/// The trace-path finding `Id` of a stage.
pub fn path_finding_id(stage: &StageRef) -> String {
    stage.finding_id(PATH_GENERATOR_ID)
}

/// The finding for a judged path; `None` for an UNKNOWN path, whose
/// finding (if any) is left as it is.
pub fn build_path_finding(
    ev: &PathEvaluation,
    now: DateTime<Utc>,
    first_seen: Option<&FirstSeen>,
) -> Option<Finding> {
    let compliance = match ev.status {
        PathStatus::Passed => Compliance::Passed,
        PathStatus::Failed => Compliance::Failed,
        PathStatus::Unknown => return None,
    };
    let s = &ev.stage;
    let mut resources = vec![stage_resource(s)];
    resources.extend(
        ev.functions
            .iter()
            .take(MAX_FUNCTION_RESOURCES)
            .map(function_resource),
    );
    let parts = Parts {
        stage: s,
        generator: PATH_GENERATOR_ID,
        title: PATH_TITLE,
        description: describe(ev),
        remediation_text: remediation_text(ev),
        remediation_url: PATH_REMEDIATION_URL,
        fields: fields(ev),
        resources,
        compliance,
        record_state: RecordState::Active,
    };
    Some(finding(parts, now, first_seen))
}

fn function_resource(f: &PathFunction) -> Resource {
    let r = &f.function;
    let mode = match &f.state.mode {
        FunctionMode::Unknown(_) => None,
        m => Some(m.as_str().to_owned()),
    };
    Resource {
        r#type: "AwsLambdaFunction".into(),
        id: r.arn(),
        partition: r.region.partition(),
        region: r.region,
        tags: BTreeMap::new(),
        details: ResourceDetails {
            aws_api_gateway_stage: None,
            aws_lambda_function: Some(LambdaDetails {
                function_name: r.name.clone(),
                tracing_config: mode.map(|mode| LambdaTracingConfig { mode }),
                role: f.state.role.clone(),
                version: r.qualifier.clone(),
            }),
        },
    }
}

/// `name (account, mode[, authorizer])`.
fn label(f: &PathFunction) -> String {
    let q = f
        .function
        .qualifier
        .as_deref()
        .map(|q| format!(":{q}"))
        .unwrap_or_default();
    format!(
        "{}{q} ({}, {}{}{})",
        f.function.name,
        f.function.account,
        f.state.mode.as_str(),
        if f.authorizer { ", authorizer" } else { "" },
        if f.state.otel.instrumented {
            ", OpenTelemetry"
        } else {
            ""
        }
    )
}

fn list(fs: &[&PathFunction]) -> String {
    fs.iter().map(|f| label(f)).collect::<Vec<_>>().join(", ")
}

fn describe(ev: &PathEvaluation) -> String {
    let p = &ev.stage.place;
    let api = match &ev.stage.api_name {
        Some(name) => format!("'{}' ({})", cut_to(name, 128), p.api_id),
        None => p.api_id.clone(),
    };
    let total = ev.functions.len();
    let failing: Vec<&PathFunction> = ev.failing().collect();
    let text = if failing.is_empty() {
        let extra = if ev.not_traceable.is_empty() {
            String::new()
        } else {
            format!(
                " {} integration(s) lead outside Lambda and are not traceable by AWS.",
                ev.not_traceable.len()
            )
        };
        let functions = match total {
            0 => "no Lambda function is behind it".to_owned(),
            1 => "the Lambda function behind it has X-Ray active tracing".to_owned(),
            n => format!("all {n} Lambda functions behind it have X-Ray active tracing"),
        };
        format!(
            "Stage '{}' of REST API {api} in account {} region {} traces, and {functions}.{extra}",
            p.stage, p.account, p.region
        )
    } else {
        format!(
            "Stage '{}' of REST API {api} in account {} region {} has X-Ray tracing on, but {} of \
             {total} Lambda function(s) behind it do not trace actively: {}. Their segments are \
             missing from the stage's traces, so the service map breaks at them. Lambda.7 requires \
             Active: a PassThrough function records only requests an upstream already sampled.",
            p.stage,
            p.account,
            p.region,
            failing.len(),
            list(&failing)
        )
    };
    // OpenTelemetry: notes, not the verdict (AWS's guides still ask for
    // Active with the ADOT layer).
    let notes: Vec<String> = ev
        .functions
        .iter()
        .filter_map(|f| f.state.otel.note(&f.function.name))
        .collect();
    let text = match notes.is_empty() {
        true => text,
        false => format!("{text} {}.", notes.join("; ")),
    };
    cut_to(&text, 1024)
}

fn remediation_text(ev: &PathEvaluation) -> String {
    let example = ev
        .failing()
        .next()
        .map(|f| f.function.unqualified_arn())
        .unwrap_or_else(|| "<function>".into());
    cut_to(
        &format!(
            "Turn on active tracing for each function listed: aws lambda update-function-configuration \
             --function-name {example} --tracing-config Mode=Active (its role needs \
             xray:PutTraceSegments, e.g. AWSXRayDaemonWriteAccess), or run apigw-tracing remediate \
             --trace-path."
        ),
        512,
    )
}

fn fields(ev: &PathEvaluation) -> BTreeMap<String, String> {
    let mut fields = Fields::of_stage(&ev.stage);
    let mut field = |k: &str, v: String| fields.put(k, v);
    field("Functions", ev.functions.len().to_string());
    let failing: Vec<&PathFunction> = ev.failing().collect();
    field("FunctionsNotActive", failing.len().to_string());
    if !failing.is_empty() {
        field("NotActive", list(&failing));
    }
    let unknown: Vec<&PathFunction> = ev
        .functions
        .iter()
        .filter(|f| matches!(f.state.mode, FunctionMode::Unknown(_)))
        .collect();
    if !unknown.is_empty() {
        field("Unknown", list(&unknown));
    }
    let authorizers: Vec<&PathFunction> = ev.functions.iter().filter(|f| f.authorizer).collect();
    if !authorizers.is_empty() {
        field("Authorizers", list(&authorizers));
    }
    if ev.functions.len() > MAX_FUNCTION_RESOURCES {
        field(
            "FunctionsNotListed",
            (ev.functions.len() - MAX_FUNCTION_RESOURCES).to_string(),
        );
    }
    if !ev.not_traceable.is_empty() {
        field("NotTraceableByAws", ev.not_traceable.join("; "));
    }
    let otel: Vec<&PathFunction> = ev
        .functions
        .iter()
        .filter(|f| f.state.otel.instrumented)
        .collect();
    if !otel.is_empty() {
        field("OpenTelemetry", list(&otel));
        let split: Vec<&PathFunction> = otel
            .iter()
            .copied()
            .filter(|f| f.state.otel.splits())
            .collect();
        if !split.is_empty() {
            field("PropagatorsWithoutXray", list(&split));
        }
    }
    fields.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asff::FIELD_PREFIX;
    use crate::trace_path::{FunctionRef, FunctionState};
    use apigw_tracing_rule::testing::stage;

    fn function(name: &str, mode: FunctionMode, authorizer: bool) -> PathFunction {
        PathFunction {
            function: FunctionRef::parse_arn(&format!(
                "arn:aws:lambda:eu-west-1:222222222222:function:{name}"
            ))
            .unwrap(),
            authorizer,
            state: FunctionState {
                mode,
                role: Some(format!("arn:aws:iam::222222222222:role/{name}-role")),
                otel: Default::default(),
            },
        }
    }

    fn path(functions: Vec<PathFunction>, status: PathStatus) -> PathEvaluation {
        PathEvaluation {
            stage: stage("api1", "prod", true),
            status,
            functions,
            not_traceable: vec!["GET /health: MOCK integration".into()],
            unresolved: vec![],
        }
    }

    #[test]
    fn a_failed_path_names_its_functions_after_the_stage() {
        let ev = path(
            vec![
                function("orders", FunctionMode::PassThrough, false),
                function("auth", FunctionMode::PassThrough, true),
                function("pay", FunctionMode::Active, false),
            ],
            PathStatus::Failed,
        );
        let f = build_path_finding(&ev, Utc::now(), None).unwrap();
        assert_eq!(f.generator_id, PATH_GENERATOR_ID);
        assert_eq!(f.id, path_finding_id(&ev.stage.place));
        assert_ne!(f.id, super::super::finding_id(&ev.stage.place));
        assert_eq!(f.compliance.status, Compliance::Failed);
        assert_eq!(f.resources[0].r#type, "AwsApiGatewayStage");
        let fns: Vec<(&str, Option<&str>)> = f.resources[1..]
            .iter()
            .map(|r| {
                let d = r.details.aws_lambda_function.as_ref().unwrap();
                (
                    d.function_name.as_str(),
                    d.tracing_config.as_ref().map(|t| t.mode.as_str()),
                )
            })
            .collect();
        assert_eq!(
            fns,
            [
                ("orders", Some("PassThrough")),
                ("auth", Some("PassThrough")),
                ("pay", Some("Active"))
            ]
        );
        assert!(f.description.contains(
            "2 of 3 Lambda function(s) behind it do not trace actively: orders (222222222222, PassThrough), auth (222222222222, PassThrough, authorizer)"
        ), "{}", f.description);
        assert_eq!(
            f.product_fields[&format!("{FIELD_PREFIX}FunctionsNotActive")],
            "2"
        );
        assert!(super::super::validate(&f).is_ok());
    }

    #[test]
    fn many_functions_stay_within_the_asff_resource_limit_and_unknown_paths_build_nothing() {
        let many = (0..40)
            .map(|i| function(&format!("f{i:02}"), FunctionMode::PassThrough, false))
            .collect();
        let f = build_path_finding(&path(many, PathStatus::Failed), Utc::now(), None).unwrap();
        assert_eq!(f.resources.len(), 32);
        assert_eq!(
            f.product_fields[&format!("{FIELD_PREFIX}FunctionsNotListed")],
            "9"
        );
        assert!(
            super::super::validate(&f).is_ok(),
            "{:?}",
            super::super::validate(&f)
        );
        let unknown = path(
            vec![function(
                "x",
                FunctionMode::Unknown("AccessDenied".into()),
                false,
            )],
            PathStatus::Unknown,
        );
        assert_eq!(build_path_finding(&unknown, Utc::now(), None), None);
        let passed = path(
            vec![function("x", FunctionMode::Active, false)],
            PathStatus::Passed,
        );
        let f = build_path_finding(&passed, Utc::now(), None).unwrap();
        assert_eq!(
            (f.compliance.status, f.severity.label),
            (
                Compliance::Passed,
                super::super::SeverityLabel::Informational
            )
        );
    }
}

#[cfg(test)]
#[path = "path_otel_tests.rs"]
mod otel_tests;
