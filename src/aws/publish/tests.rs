use aws_sdk_securityhub::operation::batch_import_findings::{
    BatchImportFindingsError, BatchImportFindingsOutput,
};
use aws_sdk_securityhub::types::error::InvalidAccessException;
use aws_sdk_securityhub::types::ImportFindingsError;
use aws_sdk_securityhub::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use chrono::Utc;

use super::*;
use crate::asff::build_finding;
use apigw_tracing_rule::testing::{eval, stage};

fn findings(n: usize) -> Vec<Finding> {
    (0..n)
        .map(|i| {
            build_finding(
                &eval(stage(&format!("api{i:04}"), "prod", i % 2 == 0)),
                Utc::now(),
                None,
            )
        })
        .collect()
}

/// Serialised sizes, as validation reports them.
fn sizes(findings: &[Finding]) -> Vec<usize> {
    findings
        .iter()
        .map(|f| crate::asff::validate(f).unwrap())
        .collect()
}

fn at() -> AccountRegion {
    AccountRegion::new(
        crate::model::AccountId::parse("111111111111").unwrap(),
        crate::model::Region::parse("eu-west-1").unwrap(),
    )
}

/// The findings in batches, as `reconcile::prepare` sizes them.
fn batches(findings: &[Finding]) -> Vec<Vec<Finding>> {
    let mut rest = findings.iter().cloned();
    crate::reconcile::batch_sizes(&sizes(findings))
        .into_iter()
        .map(|n| rest.by_ref().take(n).collect())
        .collect()
}

fn ok_output(failed: Vec<ImportFindingsError>, success: i32) -> BatchImportFindingsOutput {
    BatchImportFindingsOutput::builder()
        .failed_count(failed.len() as i32)
        .success_count(success)
        .set_failed_findings(Some(failed))
        .build()
}

fn failed(id: &str, code: &str) -> ImportFindingsError {
    ImportFindingsError::builder()
        .id(id)
        .error_code(code)
        .error_message("nope")
        .build()
}

/// Paused clock: the re-send backoff takes no real time.
#[tokio::test(start_paused = true)]
async fn sends_every_finding_in_batches_of_100() {
    let rule = mock!(Client::batch_import_findings)
        .match_requests(|r| r.findings().len() <= MAX_BATCH_FINDINGS)
        .then_compute_output(|r| ok_output(vec![], r.findings().len() as i32));
    let client = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, [&rule]);
    let all = findings(250);
    let out = import_findings(&client, &at(), &batches(&all)).await;
    assert_eq!(
        (out.imported, out.not_imported, out.errors.len()),
        (250, 0, 0)
    );
    assert_eq!(rule.num_calls(), 3);
}

/// Paused clock: the re-send backoff takes no real time.
#[tokio::test(start_paused = true)]
async fn retryable_rejections_are_sent_again_and_land() {
    let all = findings(3);
    let id = all[1].id.clone();
    let first = mock!(Client::batch_import_findings)
        .match_requests(|r| r.findings().len() == 3)
        .then_output(move || ok_output(vec![failed(&id, "InternalException")], 2));
    let id = all[1].id.clone();
    let second = mock!(Client::batch_import_findings)
        .match_requests(move |r| {
            r.findings().len() == 1 && r.findings()[0].id() == Some(id.as_str())
        })
        .then_output(|| ok_output(vec![], 1));
    let client = mock_client!(aws_sdk_securityhub, RuleMode::Sequential, [&first, &second]);
    let out = import_findings(&client, &at(), &batches(&all)).await;
    assert_eq!((out.imported, out.not_imported), (3, 0));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

/// Paused clock: the re-send backoff takes no real time.
#[tokio::test(start_paused = true)]
async fn final_rejections_are_reported_with_id_and_code() {
    let all = findings(2);
    let id = all[0].id.clone();
    let rule = mock!(Client::batch_import_findings)
        .then_output(move || ok_output(vec![failed(&id, "InvalidInput")], 1));
    let client = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, [&rule]);
    let out = import_findings(&client, &at(), &batches(&all)).await;
    assert_eq!((out.imported, out.not_imported), (1, 1));
    assert_eq!(rule.num_calls(), 1, "InvalidInput is not retried");
    match &out.errors[..] {
        [PublishError::Rejected {
            finding_id, code, ..
        }] => {
            assert_eq!(finding_id, &all[0].id);
            assert_eq!(code, "InvalidInput");
        }
        other => panic!("{other:?}"),
    }
}

/// Paused clock: the re-send backoff takes no real time.
#[tokio::test(start_paused = true)]
async fn a_region_without_security_hub_is_one_clear_error_and_stops_sending() {
    let rule = mock!(Client::batch_import_findings).then_error(|| {
        BatchImportFindingsError::InvalidAccessException(
            InvalidAccessException::builder()
                .message("Account 111111111111 is not subscribed to AWS Security Hub")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, [&rule]);
    let all = findings(250);
    let out = import_findings(&client, &at(), &batches(&all)).await;
    assert_eq!((out.imported, out.not_imported), (0, 250));
    assert_eq!(rule.num_calls(), 1, "later batches are not sent");
    assert!(
        matches!(&out.errors[..], [PublishError::NotEnabled { at: a, .. }] if a.region.as_str() == "eu-west-1")
    );
    let msg = out.errors[0].to_string();
    assert!(msg.contains("Security Hub is not enabled"), "{msg}");
}

/// Paused clock: the re-send backoff takes no real time.
#[tokio::test(start_paused = true)]
async fn invalid_access_in_failed_findings_also_means_not_enabled() {
    let all = findings(2);
    let ids: Vec<String> = all.iter().map(|f| f.id.clone()).collect();
    let rule = mock!(Client::batch_import_findings).then_output(move || {
        ok_output(ids.iter().map(|i| failed(i, "InvalidAccess")).collect(), 0)
    });
    let client = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, [&rule]);
    let out = import_findings(&client, &at(), &batches(&all)).await;
    assert_eq!((out.imported, out.not_imported), (0, 2));
    assert!(
        matches!(&out.errors[..], [PublishError::NotEnabled { code, .. }] if code == "InvalidAccess")
    );
}

#[test]
fn conversion_keeps_every_field() {
    let f = &findings(1)[0];
    let sdk = to_sdk(f);
    assert_eq!(sdk.id(), Some(f.id.as_str()));
    assert_eq!(sdk.product_arn(), Some(f.product_arn.as_str()));
    assert_eq!(sdk.aws_account_id(), Some("111111111111"));
    assert_eq!(
        sdk.created_at(),
        Some(crate::asff::timestamp(f.created_at).as_str())
    );
    assert_eq!(
        sdk.compliance()
            .and_then(|c| c.status())
            .map(|s| s.as_str()),
        Some(f.compliance.status.as_str())
    );
    assert_eq!(sdk.record_state().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(
        sdk.severity().and_then(|s| s.label()).map(|l| l.as_str()),
        Some(f.severity.label.as_str())
    );
    let r = &sdk.resources()[0];
    assert_eq!(r.r#type(), Some("AwsApiGatewayStage"));
    let d = r.details().unwrap().aws_api_gateway_stage().unwrap();
    assert_eq!(d.stage_name(), Some("prod"));
    assert_eq!(
        d.tracing_enabled(),
        Some(
            f.resources[0]
                .details
                .aws_api_gateway_stage
                .as_ref()
                .unwrap()
                .tracing_enabled
        )
    );
    assert_eq!(sdk.product_fields().unwrap().len(), f.product_fields.len());
    assert_eq!(sdk.finding_provider_fields().unwrap().types(), f.types);
}

/// Every field set that our model holds, optional ones included.
fn full_finding() -> Finding {
    let mut s = stage("abc123", "prod", false);
    s.description = Some("orders".into());
    s.web_acl_arn = Some("arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/x/1".into());
    s.cache_cluster_enabled = true;
    s.created_date = Some(Utc::now());
    s.last_updated_date = Some(Utc::now());
    s.tags
        .insert(crate::exempt::TAG_EXEMPT.into(), "vendor".into());
    s.tags
        .insert(crate::exempt::TAG_EXEMPT_UNTIL.into(), "2099-01-01".into());
    s.tags.insert("team".into(), "payments".into());
    let mut f = build_finding(&eval(s), Utc::now(), None);
    f.finding_provider_fields.severity.original = "provider".into();
    f
}

#[test]
fn conversion_round_trips_every_field() {
    let f = full_finding();
    assert_eq!(f.record_state, crate::asff::RecordState::Archived, "exempt");
    assert!(f.product_fields.len() > 5);
    assert_eq!(from_sdk(&to_sdk(&f)).unwrap(), f);
    let passed = &findings(1)[0];
    assert_eq!(&from_sdk(&to_sdk(passed)).unwrap(), passed);
    // A trace-path finding: the stage, then functions (one unread).
    use crate::trace_path::{
        FunctionMode, FunctionRef, FunctionState, PathEvaluation, PathFunction, PathStatus,
    };
    let function = |name: &str, mode: FunctionMode| PathFunction {
        function: FunctionRef::parse_arn(&format!(
            "arn:aws:lambda:eu-west-1:111111111111:function:{name}:live"
        ))
        .unwrap(),
        authorizer: false,
        state: FunctionState {
            mode,
            role: Some("arn:aws:iam::111111111111:role/r".into()),
            otel: Default::default(),
        },
    };
    let path = PathEvaluation {
        stage: apigw_tracing_rule::testing::stage("api1", "prod", true),
        status: PathStatus::Failed,
        functions: vec![
            function("a", FunctionMode::PassThrough),
            function("b", FunctionMode::Unknown("gone".into())),
        ],
        not_traceable: vec![],
        unresolved: vec![],
    };
    let f = crate::asff::build_path_finding(&path, chrono::Utc::now(), None).unwrap();
    assert_eq!(f.resources.len(), 3);
    assert_eq!(from_sdk(&to_sdk(&f)).unwrap(), f);
}

#[test]
fn a_value_we_never_write_is_refused_by_name() {
    use aws_sdk_securityhub::types as sh;
    let sdk = to_sdk(&full_finding());
    // WARNING is the sampling rule's partly seen; NOT_AVAILABLE is never ours.
    let mut warning = sdk.clone();
    warning.compliance = Some(
        sh::Compliance::builder()
            .status(sh::ComplianceStatus::Warning)
            .build(),
    );
    assert_eq!(
        from_sdk(&warning).unwrap().compliance.status,
        crate::evaluate::Compliance::Warning
    );
    let mut not_available = sdk.clone();
    not_available.compliance = Some(
        sh::Compliance::builder()
            .status(sh::ComplianceStatus::NotAvailable)
            .build(),
    );
    assert_eq!(
        from_sdk(&not_available).unwrap_err(),
        "Compliance.Status \"NOT_AVAILABLE\""
    );
    let mut critical = sdk;
    critical.severity = Some(
        sh::Severity::builder()
            .label(sh::SeverityLabel::Critical)
            .build(),
    );
    assert!(
        from_sdk(&critical).is_ok(),
        "CRITICAL is a label we can hold"
    );
}
