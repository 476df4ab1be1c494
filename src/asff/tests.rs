use chrono::TimeZone;

use super::*;
use apigw_tracing_rule::testing::{eval, stage};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap()
}

fn failing() -> Finding {
    build_finding(&eval(stage("abc123", "prod", false)), now(), None)
}

#[test]
fn failing_stage_makes_a_low_failed_active_finding() {
    let f = failing();
    assert_eq!(
        f.id,
        "apigw-tracing/xray-active-tracing/aws/111111111111/eu-west-1/abc123/prod"
    );
    assert_eq!(
        f.product_arn,
        "arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default"
    );
    assert_eq!(f.aws_account_id.as_str(), "111111111111");
    assert_eq!(f.compliance.status, Compliance::Failed);
    assert_eq!(f.compliance.related_requirements, ["NIST.800-53.r5 CA-7"]);
    assert_eq!(f.severity.label, SeverityLabel::Low);
    assert_eq!(f.finding_provider_fields.severity, f.severity);
    assert_eq!(f.finding_provider_fields.types, f.types);
    assert_eq!(f.types, [FINDING_TYPE]);
    assert_eq!(f.record_state, RecordState::Active);
    assert_eq!(timestamp(f.created_at), "2026-11-24T02:00:00.000Z");
    assert_eq!(f.resources[0].r#type, "AwsApiGatewayStage");
    assert_eq!(
        f.resources[0].id,
        "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/prod"
    );
    assert!(
        !f.resources[0]
            .details
            .aws_api_gateway_stage
            .as_ref()
            .unwrap()
            .tracing_enabled
    );
    assert!(f.description.contains("does not have X-Ray active tracing"));
    assert!(f.remediation.recommendation.text.contains(
        "aws apigateway update-stage --region eu-west-1 --rest-api-id abc123 --stage-name prod \
         --patch-operations op=replace,path=/tracingEnabled,value=true"
    ));
    assert_eq!(f.product_fields["apigw-tracing/scanner/ApiId"], "abc123");
    assert_eq!(
        f.product_fields["apigw-tracing/scanner/TracingEnabled"],
        "false"
    );
    validate(&f).unwrap();
}

#[test]
fn passing_stage_makes_an_informational_passed_finding_with_the_same_id() {
    let f = build_finding(&eval(stage("abc123", "prod", true)), now(), None);
    assert_eq!(f.compliance.status, Compliance::Passed);
    assert_eq!(f.severity.label, SeverityLabel::Informational);
    assert_eq!(f.id, failing().id);
    validate(&f).unwrap();
}

#[test]
fn ids_differ_by_every_component() {
    let base = stage("abc123", "prod", false);
    let mut ids = std::collections::BTreeSet::new();
    let mut other_region = base.clone();
    other_region.place.region = Region::parse("cn-north-1").unwrap();
    let mut other_account = base.clone();
    other_account.place.account = AccountId::parse("222222222222").unwrap();
    for s in [
        base.clone(),
        other_region,
        other_account,
        stage("abc124", "prod", false),
        stage("abc123", "dev", false),
    ] {
        ids.insert(finding_id(&s.place));
    }
    assert_eq!(ids.len(), 5);
    assert!(ids.iter().any(|i| i.contains("/aws-cn/")));
}

#[test]
fn first_seen_timestamps_are_kept() {
    let seen = FirstSeen {
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        first_observed_at: Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap(),
    };
    let f = build_finding(&eval(stage("a", "prod", false)), now(), Some(&seen));
    assert_eq!(f.created_at, seen.created_at);
    assert_eq!(f.first_observed_at, seen.first_observed_at);
    assert_eq!(timestamp(f.updated_at), "2026-11-24T02:00:00.000Z");
    assert_eq!(f.last_observed_at, f.updated_at);
}

#[test]
fn long_names_are_cut_to_fit_and_odd_names_are_quoted() {
    let mut s = stage("a", "stage with 'quote", false);
    s.api_name = Some("n".repeat(5000));
    s.description = Some("d".repeat(5000));
    s.tags.insert("team".into(), "t".repeat(400));
    let f = build_finding(&eval(s), now(), None);
    validate(&f).unwrap();
    assert!(f.description.chars().count() <= 1024);
    assert!(f
        .remediation
        .recommendation
        .text
        .contains(r"--stage-name 'stage with '\''quote'"));
    assert_eq!(f.resources[0].tags["team"].chars().count(), 256);
}

#[test]
fn serialises_as_asff() {
    let v = serde_json::to_value(failing()).unwrap();
    for key in [
        "SchemaVersion",
        "Id",
        "ProductArn",
        "GeneratorId",
        "AwsAccountId",
        "Types",
        "CreatedAt",
        "UpdatedAt",
        "Severity",
        "Title",
        "Description",
        "Resources",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["RecordState"], "ACTIVE");
    assert_eq!(
        v["Compliance"]["RelatedRequirements"],
        serde_json::json!(["NIST.800-53.r5 CA-7"])
    );
    assert_eq!(
        v["Resources"][0]["Details"]["AwsApiGatewayStage"]["StageName"],
        "prod"
    );
    let back: Finding = serde_json::from_value(v).unwrap();
    assert_eq!(back, failing());
}

#[test]
fn validation_names_each_broken_rule() {
    type Mutation = fn(&mut Finding);
    let cases: &[(&str, Mutation)] = &[
        ("SchemaVersion", |f| f.schema_version = "2020-01-01".into()),
        ("Id", |f| f.id = "x".repeat(513)),
        ("Id", |f| f.id.clear()),
        ("GeneratorId", |f| f.generator_id = " ".into()),
        ("Title", |f| f.title = "t".repeat(257)),
        ("Description", |f| f.description = "d".repeat(1025)),
        ("ProductArn", |f| {
            f.product_arn =
                "arn:aws:securityhub:eu-west-1:999999999999:product/999999999999/default".into()
        }),
        ("ProductArn", |f| {
            f.region = Region::parse("us-east-1").unwrap()
        }),
        ("Types", |f| f.types = vec!["Made Up/Thing".into()]),
        ("Types", |f| f.types.clear()),
        ("UpdatedAt", |f| {
            f.created_at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
        }),
        ("ProductFields", |f| {
            f.product_fields
                .insert("aws/securityhub/x".into(), "v".into());
        }),
        ("ProductFields", |f| {
            for i in 0..60 {
                f.product_fields.insert(format!("k{i}"), "v".into());
            }
        }),
        ("ProductFields", |f| {
            f.product_fields.insert("k".into(), "v".repeat(2049));
        }),
        ("Resources", |f| f.resources.clear()),
        ("Resources.Tags", |f| {
            f.resources[0].tags.insert("k".into(), "v".repeat(257));
        }),
        ("Remediation.Recommendation.Text", |f| {
            f.remediation.recommendation.text = "r".repeat(513)
        }),
        ("(finding)", |f| {
            f.resources[0]
                .details
                .aws_api_gateway_stage
                .as_mut()
                .unwrap()
                .description = Some("x".repeat(MAX_FINDING_BYTES))
        }),
    ];
    for (field, mutate) in cases {
        let mut f = failing();
        mutate(&mut f);
        let err = validate(&f).expect_err(field);
        assert!(
            err.problems.iter().any(|p| p.field == *field),
            "{field}: {err}"
        );
        assert!(err.to_string().contains(&f.id[..f.id.len().min(20)]));
    }
}

#[test]
fn an_exempt_stage_is_archived_with_its_reason_and_a_lapsed_one_is_active_again() {
    use crate::exempt::{TAG_EXEMPT, TAG_EXEMPT_UNTIL};
    let mut s = stage("abc123", "prod", false);
    s.tags.insert(
        TAG_EXEMPT.into(),
        "vendor gateway, tracing unsupported".into(),
    );
    s.tags.insert(TAG_EXEMPT_UNTIL.into(), "2027-06-30".into());
    let f = build_finding(&eval(s.clone()), now(), None);
    validate(&f).unwrap();
    assert_eq!(f.record_state, RecordState::Archived);
    assert_eq!(f.compliance.status, Compliance::Failed);
    assert_eq!(f.product_fields["apigw-tracing/scanner/Exempt"], "true");
    assert_eq!(
        f.product_fields["apigw-tracing/scanner/ExemptionReason"],
        "vendor gateway, tracing unsupported"
    );
    assert_eq!(
        f.product_fields["apigw-tracing/scanner/ExemptUntil"],
        "2027-06-30"
    );
    assert!(
        f.description
            .starts_with("Exempted until 2027-06-30 (tag): vendor gateway"),
        "{}",
        f.description
    );

    s.tags.insert(TAG_EXEMPT_UNTIL.into(), "2026-01-31".into());
    let f = build_finding(&eval(s), now(), None);
    assert_eq!(f.record_state, RecordState::Active);
    assert_eq!(
        f.product_fields["apigw-tracing/scanner/ExemptionLapsed"],
        "2026-01-31"
    );
    assert!(!f
        .product_fields
        .contains_key("apigw-tracing/scanner/Exempt"));
    assert!(
        f.description
            .contains("Its exemption lapsed: exempted until 2026-01-31"),
        "{}",
        f.description
    );
}

#[test]
fn values_outside_asff_cannot_be_held() {
    let good = serde_json::to_value(failing()).unwrap();
    for (pointer, bad) in [
        ("/Severity/Label", "SEVERE"),
        ("/FindingProviderFields/Severity/Label", "low"),
        ("/Compliance/Status", "MAYBE"),
        ("/RecordState", "DELETED"),
        ("/Resources/0/Partition", "aws-mars"),
        ("/AwsAccountId", "12"),
        ("/Region", "moon-1"),
        ("/CreatedAt", "yesterday"),
    ] {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = serde_json::json!(bad);
        assert!(
            serde_json::from_value::<Finding>(v).is_err(),
            "{pointer} = {bad} was accepted"
        );
    }
    assert_eq!(serde_json::from_value::<Finding>(good).unwrap(), failing());
}
