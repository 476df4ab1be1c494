use std::collections::BTreeMap;

use super::*;
use crate::testing::stage;

/// A rule matching on `ServiceName` only, recording `reservoir`/`rate`.
fn rule(name: &str, priority: i64, service: &str, reservoir: f64, rate: f64) -> SamplingRule {
    SamplingRule {
        name: name.into(),
        priority: Some(priority),
        reservoir: Some(reservoir),
        rate: Some(rate),
        service_name: Some(service.into()),
        ..SamplingRule::aws_default()
    }
}

fn judged(rules: &[SamplingRule]) -> SamplingEvaluation {
    // testing::stage names the API `{id}-name`.
    evaluate(stage("api1", "prod", true), rules, &BTreeMap::new())
}

fn status(rules: &[SamplingRule]) -> SamplingStatus {
    judged(rules).verdict.status
}

fn deciding(rules: &[SamplingRule]) -> String {
    judged(rules).verdict.decided.unwrap().rule.name
}

#[test]
fn without_rules_the_default_rule_records_and_a_matching_0_0_rule_blinds() {
    assert_eq!(status(&[]), SamplingStatus::Passed);
    assert_eq!(deciding(&[]), "Default");
    let silence = rule("silence", 10, "api1-name/prod", 0.0, 0.0);
    assert_eq!(
        status(std::slice::from_ref(&silence)),
        SamplingStatus::Failed
    );
    assert_eq!(deciding(&[silence]), "silence");
    // Another stage's rule does not apply; case is ignored as X-Ray does.
    assert_eq!(
        status(&[rule("other", 10, "api1-name/dev", 0.0, 0.0)]),
        SamplingStatus::Passed
    );
    assert_eq!(
        status(&[rule("upper", 10, "API1-NAME/PR?D", 0.0, 0.0)]),
        SamplingStatus::Failed
    );
}

#[test]
fn both_resource_arn_forms_match_and_the_service_type_must_fit() {
    for arn in [
        "arn:aws:execute-api:eu-west-1:111111111111:api1/prod",
        "arn:aws:apigateway:eu-west-1::/restapis/api1/stages/prod",
        "arn:aws:execute-api:*:*:api1/*",
    ] {
        let r = SamplingRule {
            resource_arn: Some(arn.into()),
            ..rule("by-arn", 5, "*", 0.0, 0.0)
        };
        assert_eq!(status(&[r]), SamplingStatus::Failed, "{arn}");
    }
    let other_account = SamplingRule {
        resource_arn: Some("arn:aws:execute-api:eu-west-1:222222222222:api1/prod".into()),
        ..rule("by-arn", 5, "*", 0.0, 0.0)
    };
    assert_eq!(status(&[other_account]), SamplingStatus::Passed);
    for (kind, want) in [
        ("AWS::ApiGateway::Stage", SamplingStatus::Failed),
        ("AWS::ApiGateway::*", SamplingStatus::Failed),
        ("AWS::Lambda::Function", SamplingStatus::Passed),
    ] {
        let r = SamplingRule {
            service_type: Some(kind.into()),
            ..rule("typed", 5, "*", 0.0, 0.0)
        };
        assert_eq!(status(&[r]), want, "{kind}");
    }
}

#[test]
fn a_conditional_exclusion_in_front_passes_and_a_conditional_recorder_in_front_warns() {
    let health = SamplingRule {
        url_path: Some("/health".into()),
        ..rule("health", 1, "*", 0.0, 0.0)
    };
    let ev = judged(std::slice::from_ref(&health));
    assert_eq!(ev.verdict.status, SamplingStatus::Passed);
    let d = ev.verdict.decided.unwrap();
    assert_eq!(d.rule.name, "Default");
    assert_eq!(d.in_front[0].0.name, "health");
    assert_eq!(d.in_front[0].0.conditions(), "URLPath /health");

    let orders = SamplingRule {
        http_method: Some("POST".into()),
        ..rule("orders-only", 1, "*", 1.0, 0.1)
    };
    let blind = rule("blind-rest", 2, "*", 0.0, 0.0);
    assert_eq!(status(&[orders, blind]), SamplingStatus::Warning);
}

#[test]
fn an_edited_default_blinds_every_stage_and_a_boost_alone_warns() {
    let zero_default = SamplingRule {
        reservoir: Some(0.0),
        rate: Some(0.0),
        ..SamplingRule::aws_default()
    };
    assert_eq!(
        status(std::slice::from_ref(&zero_default)),
        SamplingStatus::Failed
    );
    let boosted = SamplingRule {
        boost: Boost::MaxRate(0.2),
        ..zero_default
    };
    assert_eq!(status(&[boosted]), SamplingStatus::Warning);
}

#[test]
fn priority_decides_then_the_name() {
    let low = rule("b-records", 5, "*", 1.0, 0.05);
    let zero = rule("a-zero", 5, "*", 0.0, 0.0);
    // Same priority: "a-zero" sorts first and decides.
    assert_eq!(status(&[low.clone(), zero.clone()]), SamplingStatus::Failed);
    let zero_later = SamplingRule {
        priority: Some(6),
        ..zero
    };
    assert_eq!(status(&[zero_later, low]), SamplingStatus::Passed);
}

#[test]
fn what_is_not_known_before_deploy_is_unknown_unless_it_cannot_matter() {
    let target = Target {
        api_name: None,
        stage: Some("prod"),
        partition: Some("aws"),
        region: Some("eu-west-1"),
        ..Target::default()
    };
    // A name-specific 0/0 rule against an API named at deploy: UNKNOWN.
    let named = rule("silence", 10, "my-stack/prod", 0.0, 0.0);
    let v = judge(&target, std::slice::from_ref(&named));
    assert_eq!(v.status, SamplingStatus::Unknown);
    assert!(v.unknown.unwrap().contains("'silence'"));
    // Some patterns answer without the name: `*/prod` takes any API's
    // prod stage; `x/dev` never takes a prod stage.
    let any_prod = rule("any-prod", 10, "*/prod", 0.0, 0.0);
    assert_eq!(judge(&target, &[any_prod]).status, SamplingStatus::Failed);
    let other_stage = rule("dev-only", 10, "my-stack/dev", 0.0, 0.0);
    assert_eq!(
        judge(&target, &[other_stage]).status,
        SamplingStatus::Passed
    );
    // A wildcard one applies whatever the name: judged.
    let all = rule("silence-all", 10, "*", 0.0, 0.0);
    assert_eq!(judge(&target, &[all]).status, SamplingStatus::Failed);
    // A name-specific rule that records either way cannot change PASSED.
    let records = rule("keep", 10, "my-stack/prod", 2.0, 0.0);
    assert_eq!(judge(&target, &[records]).status, SamplingStatus::Passed);
    // An unknown rate on a rule that surely applies: UNKNOWN.
    let unknown_rate = SamplingRule {
        reservoir: Some(0.0),
        rate: None,
        ..rule("param", 10, "*", 0.0, 0.0)
    };
    assert_eq!(
        judge(&target, &[unknown_rate]).status,
        SamplingStatus::Unknown
    );
    // Too many unknowns to try: UNKNOWN, quickly.
    let many: Vec<SamplingRule> = (0..20)
        .map(|i| SamplingRule {
            priority: None,
            rate: None,
            ..rule(&format!("r{i}"), 0, "x/*", 0.0, 0.0)
        })
        .collect();
    assert_eq!(judge(&target, &many).status, SamplingStatus::Unknown);
}

#[test]
fn statistics_are_evidence_and_the_fix_is_one_command() {
    let silence = rule("silence", 10, "*", 0.0, 0.0);
    let stats = BTreeMap::from([(
        "silence".to_owned(),
        RuleStats {
            requests: 420,
            sampled: 0,
        },
    )]);
    let ev = evaluate(stage("api1", "prod", true), &[silence], &stats);
    assert_eq!(ev.verdict.status, SamplingStatus::Failed);
    assert!(ev.evidence.unwrap().contains("matched 420 request(s)"));
    assert_eq!(
        fix_command("my rule", "eu-west-1"),
        "aws xray update-sampling-rule --region eu-west-1 --sampling-rule-update \
         '{\"RuleName\":\"my rule\",\"ReservoirSize\":1,\"FixedRate\":0.05}'"
    );
}

#[test]
fn the_deploy_time_rule_fails_a_silent_catch_all_for_stages_only() {
    let silent = rule("quiet", 10, "orders/*", 0.0, 0.0);
    assert_eq!(blinds_stages(&silent), Tri::Yes);
    let records = rule("fine", 10, "*", 0.0, 0.01);
    assert_eq!(blinds_stages(&records), Tri::No);
    let conditional = SamplingRule {
        url_path: Some("/health".into()),
        ..silent.clone()
    };
    assert_eq!(blinds_stages(&conditional), Tri::No);
    let lambda_only = SamplingRule {
        service_type: Some("AWS::Lambda::Function".into()),
        ..silent.clone()
    };
    assert_eq!(blinds_stages(&lambda_only), Tri::No);
    let boosted = SamplingRule {
        boost: Boost::MaxRate(0.3),
        ..silent.clone()
    };
    assert_eq!(blinds_stages(&boosted), Tri::No);
    let computed = SamplingRule {
        rate: None,
        ..silent
    };
    assert_eq!(blinds_stages(&computed), Tri::Unknown);
}
