//! The real Lambda binary over the Lambda Runtime API protocol (local
//! emulator): start-up, answers, errors and log lines as Lambda sees them.

use std::time::Duration;

use serde_json::json;

use crate::events::fixture;
use crate::runtime_api::{LambdaProcess, Outcome, RuntimeApi};
use crate::support::*;

const WAIT: Duration = Duration::from_secs(60);

fn env_of(moto: &Moto, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    moto.cli_env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .collect()
}

#[test]
fn a_configuration_error_is_reported_at_init_and_logged_as_json() {
    for (var, value, want) in [
        (
            "APIGW_TRACING_ROLE_NAME",
            "bad role",
            "--role-name (APIGW_TRACING_ROLE_NAME): \"bad role\" is not a valid IAM role name",
        ),
        (
            "APIGW_TRACING_APIGW_RPS",
            "fast",
            "--apigw-rps (APIGW_TRACING_APIGW_RPS): invalid value 'fast'",
        ),
        (
            "APIGW_TRACING_EXTERNAL_ID",
            "x",
            "--external-id (APIGW_TRACING_EXTERNAL_ID): must be 2-1224",
        ),
    ] {
        let api = RuntimeApi::start();
        let mut f = LambdaProcess::start(
            &api,
            &[
                ("AWS_REGION".into(), "us-east-1".into()),
                (var.into(), value.into()),
            ],
        );
        let (error_type, body) = api
            .init_error(WAIT)
            .unwrap_or_else(|| panic!("{var}: no init error; log: {:?}", f.log()));
        assert_eq!(error_type, "Runtime.ConfigError");
        let message = body["errorMessage"].as_str().unwrap();
        assert!(message.contains(want), "{var}: {message}");
        assert_ne!(f.wait_exit(WAIT), Some(0), "{var}: must exit non-zero");
        assert_eq!(api.next_calls(), 0, "{var}: no event may be taken");
        let logged = f.json_log();
        assert!(
            logged
                .iter()
                .any(|l| l["level"] == "ERROR"
                    && l["error"].as_str().is_some_and(|e| e.contains(want))),
            "{var}: no JSON log line naming the setting: {:?}",
            f.log()
        );
    }
}

#[tokio::test]
async fn the_binary_scans_answers_and_refuses_over_the_runtime_api() {
    let moto = Moto::start();
    let members = create_org(&moto, 1).await;
    one_failing_stage_each(&moto, &members, "eu-west-1").await;
    let api = RuntimeApi::start();
    // An empty external id means none (the Terraform module passed "").
    let f = LambdaProcess::start(
        &api,
        &env_of(
            &moto,
            &[
                ("APIGW_TRACING_REGIONS", "eu-west-1"),
                ("APIGW_TRACING_EXTERNAL_ID", ""),
                ("APIGW_TRACING_APIGW_RPS", "50"),
                ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
            ],
        ),
    );

    let id = api.push(
        &fixture("eventbridge-rule-scheduled.json"),
        Duration::from_secs(300),
    );
    let Some(Outcome::Response(summary)) = api.outcome(&id, WAIT) else {
        panic!("no answer; log: {:?}", f.log());
    };
    assert_eq!(summary["status"], "complete", "{summary:#}");
    assert_eq!(summary["totals"]["failing"], 1);

    // Logs: one JSON object per line; span fields at the top level.
    let logged = f.json_log();
    let scanned: Vec<_> = logged
        .iter()
        .filter(|l| l["message"] == "account-region scanned")
        .collect();
    assert_eq!(scanned.len(), 2, "{logged:#?}");
    for l in &scanned {
        assert!(
            l["account"].is_string() && l["region"] == "eu-west-1",
            "{l}"
        );
        assert!(l.get("spans").is_none(), "{l}");
    }
    assert!(scanned.iter().any(|l| l["account"] == members[0].as_str()));
    assert!(
        logged
            .iter()
            .any(|l| l["message"] == "invocation" && l["trigger"] == "schedule"),
        "{logged:#?}"
    );

    // A deadline header that is a duration (cargo lambda watch), not an
    // epoch time: ignored, and the scan runs.
    let id = api.push_raw(
        json!({"regions": ["eu-west-1"], "dryRun": true}).to_string(),
        900_000,
    );
    let Some(Outcome::Response(dry)) = api.outcome(&id, WAIT) else {
        panic!("no answer; log: {:?}", f.log());
    };
    assert_eq!(dry["status"], "complete", "{dry:#}");
    assert_eq!(dry["totals"]["account_regions"], 2);

    // Bytes that are not acceptable JSON, and a huge bad value: InvalidEvent,
    // with a short message.
    let huge = format!("eu-{}-1", "x".repeat(5 * 1024 * 1024));
    for (body, want) in [
        ("{".to_owned(), "EOF while parsing"),
        (String::new(), "the event is empty"),
        ("\u{feff}{}".to_owned(), "expected value"),
        (
            r#"{"dryRun": true, "dryRun": false}"#.to_owned(),
            "duplicate key",
        ),
        (
            json!({"regions": [huge]}).to_string(),
            "is not a known AWS region",
        ),
    ] {
        let id = api.push_raw(body.clone(), 0);
        let Some(Outcome::Error {
            error_type,
            body: err,
        }) = api.outcome(&id, WAIT)
        else {
            panic!(
                "{}: no error answer; log: {:?}",
                &body[..body.len().min(40)],
                f.log()
            );
        };
        assert_eq!(error_type, "InvalidEvent", "{err}");
        let message = err["errorMessage"].as_str().unwrap();
        assert!(
            message.contains(want) && message.len() < 1000,
            "{}",
            &message[..message.len().min(300)]
        );
    }
    let log_bytes: usize = f.log().iter().map(String::len).sum();
    let big: Vec<String> = f
        .log()
        .iter()
        .filter(|l| l.len() > 2000)
        .map(|l| l.chars().take(300).collect())
        .collect();
    assert!(
        log_bytes < 200_000,
        "the log repeats the input: {log_bytes} bytes: {big:?}"
    );
}
