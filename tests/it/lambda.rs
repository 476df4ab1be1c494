use apigw_tracing::aws::AwsEnv;
use apigw_tracing::lambda::{Handler, HandlerError};
use serde_json::json;

use crate::events::fixture;
use crate::support::*;

async fn seed_two_members(moto: &Moto) -> Vec<String> {
    let members = create_org(moto, 2).await;
    for account in std::iter::once(MANAGEMENT.to_owned()).chain(members.iter().cloned()) {
        for region in ["eu-west-1", "us-east-1"] {
            let cfg = moto.account_config(&account, region).await;
            create_api(&cfg, "svc", &[("prod", None), ("beta", Some(true))]).await;
        }
    }
    members
}

#[tokio::test]
async fn scheduled_events_scan_everything_configured() {
    let moto = Moto::start();
    seed_two_members(&moto).await;
    let cfg = config(&["--regions", "eu-west-1,us-east-1", "--apigw-rps", "50"]);
    let handler = Handler::new(moto.env(&cfg).await, cfg);
    for file in [
        "eventbridge-rule-scheduled.json",
        "scheduler-scheduled.json",
    ] {
        let out = invoke(&handler, fixture(file)).await.unwrap();
        assert_eq!(out["status"], "complete", "{file}: {out:#}");
        assert_eq!(out["totals"]["accounts"], 3);
        assert_eq!(out["totals"]["account_regions"], 6);
        assert_eq!(out["totals"]["stages"], 12);
        // 12 stage findings and 6 sampling findings (one per traced stage).
        assert_eq!(out["totals"]["findings_imported"], 18);
        assert_eq!(out["totals"]["sampling"], 6);
        assert_eq!(
            out["trigger"]["schedule"]["source"],
            fixture(file)["source"]
        );
    }
    // Two runs, same stages: still one finding per stage (and one sampling
    // finding for the traced one).
    assert_eq!(findings(&moto, MANAGEMENT, "eu-west-1").await.len(), 3);
}

#[tokio::test]
async fn a_scoped_manual_invoke_touches_only_what_it_names() {
    let moto = Moto::start();
    let members = seed_two_members(&moto).await;
    let cfg = config(&["--regions", "eu-west-1,us-east-1", "--apigw-rps", "50"]);
    let handler = Handler::new(moto.env(&cfg).await, cfg);
    let out = invoke(
        &handler,
        json!({"accounts": [members[0]], "regions": ["us-east-1"]}),
    )
    .await
    .unwrap();
    assert_eq!(out["trigger"], "manual");
    assert_eq!(out["totals"]["account_regions"], 1, "{out:#}");
    assert_eq!(out["results"][0]["account"], members[0].as_str());
    assert_eq!(out["results"][0]["region"], "us-east-1");
    assert_eq!(findings(&moto, &members[0], "us-east-1").await.len(), 3);
    for (account, region) in [
        (members[0].as_str(), "eu-west-1"),
        (members[1].as_str(), "us-east-1"),
        (MANAGEMENT, "us-east-1"),
    ] {
        assert!(
            findings(&moto, account, region).await.is_empty(),
            "{account} {region}"
        );
    }
    // The manual dry run sends nothing at all.
    let out = invoke(
        &handler,
        json!({"accounts": [members[1]], "regions": ["eu-west-1"], "dryRun": true}),
    )
    .await
    .unwrap();
    assert_eq!(out["dry_run"], true);
    assert_eq!(out["totals"]["stages"], 2);
    assert!(findings(&moto, &members[1], "eu-west-1").await.is_empty());
}

#[tokio::test]
async fn malformed_events_are_refused_before_any_aws_call() {
    // Nothing listens on port 9: any AWS call would fail as a *scan* error,
    // so an *event* error proves the refusal came first.
    let cfg = config(&["--regions", "eu-west-1"]);
    let sdk = handler_sdk().await;
    let handler = Handler::new(AwsEnv::from_sdk_config(sdk, &cfg), cfg);
    for event in [
        json!({"accounts": ["12345"]}),
        json!({"regions": ["mars-north-1"]}),
        json!({"acounts": ["111111111111"]}),
        json!({"dryRun": "true"}),
        json!("scan please"),
        // (A CloudTrail event from API Gateway is a change event: an unrelated
        // one is answered as ignored, see react.rs.)
        json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": {}}),
        // Ambiguous: a schedule carrying a scope and a dry run, null values,
        // blank entries (each would have run a publishing scan before).
        json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {},
               "accounts": ["111111111111"], "regions": ["eu-west-1"], "dryRun": true}),
        json!({"dryRun": null}),
        json!({"accounts": null}),
        json!({"accounts": [" ", ""]}),
        json!({"regions": [""]}),
    ] {
        match invoke(&handler, event.clone()).await {
            Err(e @ HandlerError::Event(_)) => {
                let d: lambda_runtime::Diagnostic = e.into();
                assert_eq!(d.error_type, "InvalidEvent");
                assert!(!d.error_message.is_empty());
            }
            other => panic!("{event}: {other:?}"),
        }
    }
    // A manual scope may only narrow the configuration.
    let fixed = config(&["--regions", "eu-west-1", "--accounts", "111111111111"]);
    let sdk = handler_sdk().await;
    let narrow = Handler::new(AwsEnv::from_sdk_config(sdk, &fixed), fixed);
    for (event, want) in [
        (
            json!({"accounts": ["222222222222"]}),
            "account 222222222222 is not in the configured accounts",
        ),
        (
            json!({"regions": ["us-east-1"]}),
            "region us-east-1 is outside the configured regions (eu-west-1)",
        ),
    ] {
        match invoke(&narrow, event.clone()).await {
            Err(e) => {
                let d: lambda_runtime::Diagnostic = e.into();
                assert_eq!(d.error_type, "InvalidEvent", "{event}");
                assert!(
                    d.error_message.contains(want),
                    "{event}: {}",
                    d.error_message
                );
            }
            other => panic!("{event}: {other:?}"),
        }
    }
    // And a valid event does reach AWS (and fails there), so the above is meaningful.
    assert!(matches!(
        invoke(&handler, json!({})).await,
        Err(HandlerError::Scan(_))
    ));
}

/// A configuration whose every AWS call fails (nothing listens on port 9).
async fn handler_sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "x", "x", None, None, "t",
        ))
        .load()
        .await
}

#[tokio::test]
async fn a_manual_scope_outside_the_organization_is_refused_and_changes_nothing() {
    let moto = Moto::start();
    let members = seed_two_members(&moto).await;
    let cfg = config(&["--regions", "eu-west-1,us-east-1", "--apigw-rps", "50"]);
    let handler = Handler::new(moto.env(&cfg).await, cfg);
    let event = json!({"accounts": [members[0], "999999999999"], "regions": ["eu-west-1"]});
    match invoke(&handler, event).await {
        Err(e) => {
            let d: lambda_runtime::Diagnostic = e.into();
            assert_eq!(d.error_type, "InvalidEvent");
            assert!(
                d.error_message
                    .contains("account 999999999999 is not in the organization"),
                "{}",
                d.error_message
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(findings(&moto, &members[0], "eu-west-1").await.is_empty());
}
