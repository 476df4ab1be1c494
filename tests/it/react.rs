//! Change events through the Lambda handler, against moto, every request
//! through the fault proxy: one REST API rescanned, nothing else touched.

use std::collections::BTreeMap;

use apigw_tracing::lambda::Handler;
use serde_json::{json, Value};

use crate::events::{cloudtrail, sqs_record};
use crate::proxy::FaultProxy;
use crate::support::*;

const R: &str = "eu-west-1";

fn by_stage(landed: Vec<Landed>) -> BTreeMap<String, Landed> {
    landed.into_iter().map(|f| (f.stage(), f)).collect()
}

/// (GetStages of `api`, GetRestApis, every request) seen since `from`.
fn counts(proxy: &FaultProxy, from: usize, api: &str) -> (usize, usize, usize) {
    let log = proxy.log();
    let new = &log[from..];
    let stages = format!("/restapis/{api}/stages");
    (
        new.iter()
            .filter(|l| l.method == "GET" && l.path == stages)
            .count(),
        new.iter()
            .filter(|l| l.method == "GET" && l.path == "/restapis")
            .count(),
        new.len(),
    )
}

async fn handler_via(moto: &Moto, proxy: &FaultProxy, args: &[&str]) -> Handler {
    let settings = config(args);
    Handler::new(moto.env_via(&proxy.endpoint, &settings).await, settings)
}

#[tokio::test]
async fn a_change_rescans_that_api_only_and_archives_what_is_gone() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let a = create_api(&cfg, "a", &[("prod", None), ("dev", None)]).await;
    let b = create_api(&cfg, "b", &[("live", None)]).await;
    let args = [
        "--regions",
        R,
        "--accounts",
        MANAGEMENT,
        "--apigw-rps",
        "50",
    ];
    let handler = handler_via(&moto, &proxy, &args).await;
    let first = invoke(
        &handler,
        crate::events::fixture("eventbridge-rule-scheduled.json"),
    )
    .await
    .unwrap();
    assert_eq!(first["totals"]["failing"], 3, "{first:#}");
    let b_before = by_stage(findings(&moto, MANAGEMENT, R).await)[&format!("{b}/live")].clone();
    // Security Hub only takes an update with a newer UpdatedAt.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // UpdateStage turned tracing on: that stage's finding is PASSED.
    set_tracing(&cfg, &a, "prod", true).await;
    let from = proxy.log().len();
    let started = std::time::Instant::now();
    let out = invoke(&handler, cloudtrail("update-stage", MANAGEMENT, &a, "prod"))
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out["trigger"], "change", "{out:#}");
    assert_eq!(out["status"], "complete", "{out:#}");
    assert_eq!(
        (&out["totals"]["apis"], &out["totals"]["stages"]),
        (&1.into(), &2.into())
    );
    let (get_stages, get_rest_apis, total) = counts(&proxy, from, &a);
    assert_eq!(
        (get_stages, get_rest_apis),
        (1, 0),
        "one GetStages for the API, no GetRestApis"
    );
    eprintln!(
        "change event -> answer: {took:?}, {total} AWS requests: {}",
        out["requests"]
    );
    let now = by_stage(findings(&moto, MANAGEMENT, R).await);
    assert_eq!(now[&format!("{a}/prod")].compliance, "PASSED");
    assert_eq!(
        now[&format!("{b}/live")].updated_at,
        b_before.updated_at,
        "another API untouched"
    );

    // DeleteStage: that finding is archived, the rest of the API stays.
    delete_stage(&cfg, &a, "dev").await;
    invoke(&handler, cloudtrail("delete-stage", MANAGEMENT, &a, "dev"))
        .await
        .unwrap();
    let now = by_stage(findings(&moto, MANAGEMENT, R).await);
    assert_eq!(now[&format!("{a}/dev")].record_state, "ARCHIVED");
    assert_eq!(now[&format!("{a}/prod")].record_state, "ACTIVE");
    assert_eq!(now[&format!("{b}/live")].updated_at, b_before.updated_at);

    // DeleteRestApi: every finding of that API is archived.
    delete_api(&cfg, &a).await;
    let out = invoke(&handler, cloudtrail("delete-rest-api", MANAGEMENT, &a, ""))
        .await
        .unwrap();
    assert_eq!(out["totals"]["archived"], 1, "{out:#}");
    let now = by_stage(findings(&moto, MANAGEMENT, R).await);
    assert_eq!(now[&format!("{a}/prod")].record_state, "ARCHIVED");
    assert_eq!(now[&format!("{b}/live")].record_state, "ACTIVE");
    assert_eq!(now[&format!("{b}/live")].updated_at, b_before.updated_at);

    // A tag change (exemptions are tags) and a new stage are picked up too.
    let c = create_api(&cfg, "c", &[]).await;
    put_stage(
        &cfg,
        &c,
        "beta",
        false,
        &[("apigw-tracing:exempt", "load tests")],
    )
    .await;
    for name in ["create-stage", "tag-resource", "create-deployment"] {
        let out = invoke(&handler, cloudtrail(name, MANAGEMENT, &c, "beta"))
            .await
            .unwrap();
        assert_eq!(out["totals"]["exempt"], 1, "{name}: {out:#}");
    }
}

#[tokio::test]
async fn ignored_events_make_no_aws_call() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let handler = handler_via(
        &moto,
        &proxy,
        &[
            "--regions",
            R,
            "--accounts",
            MANAGEMENT,
            "--exclude-accounts",
            "222222222222",
        ],
    )
    .await;
    let mut other_region = cloudtrail("update-stage", MANAGEMENT, "a1b2c3", "prod");
    other_region["region"] = json!("us-west-2");
    for (event, want) in [
        (
            cloudtrail("update-stage-error", MANAGEMENT, "a1b2c3", "prod"),
            "the call failed (AccessDenied)",
        ),
        (
            cloudtrail("get-rest-apis", MANAGEMENT, "a1b2c3", "prod"),
            "not a call that can change",
        ),
        (
            cloudtrail("update-stage", "222222222222", "a1b2c3", "prod"),
            "excluded",
        ),
        (
            cloudtrail("update-stage", "333333333333", "a1b2c3", "prod"),
            "not among the configured accounts",
        ),
        (other_region, "region is not among the configured regions"),
    ] {
        let out = invoke(&handler, event).await.unwrap();
        assert_eq!(out["status"], "complete");
        assert_eq!(out["results"].as_array().unwrap().len(), 0, "{out:#}");
        let reason = out["ignored"][0]["reason"].as_str().unwrap();
        assert!(reason.contains(want), "{reason}");
    }
    assert_eq!(proxy.log().len(), 0, "no AWS call at all");
}

#[tokio::test]
async fn a_burst_for_one_api_is_rescanned_once() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let a = create_api(&cfg, "a", &[("prod", None)]).await;
    let handler = handler_via(
        &moto,
        &proxy,
        &[
            "--regions",
            R,
            "--accounts",
            MANAGEMENT,
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    let records: Vec<Value> = ["create-stage", "update-stage", "tag-resource"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            sqs_record(
                &format!("m{i}"),
                &cloudtrail(name, MANAGEMENT, &a, "prod").to_string(),
            )
        })
        .collect();
    let out = invoke(&handler, json!({"Records": records})).await.unwrap();
    assert_eq!(out["batchItemFailures"], json!([]), "{out:#}");
    let (get_stages, get_rest_apis, _) = counts(&proxy, 0, &a);
    assert_eq!(
        (get_stages, get_rest_apis),
        (1, 0),
        "three events, one rescan"
    );
    assert_eq!(findings(&moto, MANAGEMENT, R).await.len(), 1);
}

/// A queued batch of change events for several APIs of one account is one
/// run: one AssumeRole, one GetStages per API, and Security Hub asked only
/// for those APIs' findings (an `Id` prefix filter each, seen on the wire).
#[tokio::test]
async fn a_batch_shares_one_session_and_asks_only_for_its_apis_findings() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let members = create_org(&moto, 1).await;
    let m = members[0].as_str();
    let cfg = moto.account_config(m, R).await;
    let a = create_api(&cfg, "a", &[("prod", None)]).await;
    let b = create_api(&cfg, "b", &[("prod", Some(true))]).await;
    let other = create_api(&cfg, "other", &[("prod", None)]).await;
    let handler = handler_via(&moto, &proxy, &["--regions", R, "--apigw-rps", "50"]).await;
    let records: Vec<Value> = [
        (&a, "update-stage"),
        (&b, "create-stage"),
        (&a, "tag-resource"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (api, name))| {
        sqs_record(
            &format!("m{i}"),
            &cloudtrail(name, m, api, "prod").to_string(),
        )
    })
    .collect();
    let out = invoke(&handler, json!({"Records": records})).await.unwrap();
    assert_eq!(out["batchItemFailures"], json!([]), "{out:#}");
    let log = proxy.log();
    let assume = log
        .iter()
        .filter(|l| l.service == "sts" && l.body.contains("Action=AssumeRole"))
        .count();
    assert_eq!(assume, 1, "one session for the account, whatever the APIs");
    let (stages_a, rest_apis, _) = counts(&proxy, 0, &a);
    let (stages_b, _, _) = counts(&proxy, 0, &b);
    let (stages_other, _, _) = counts(&proxy, 0, &other);
    assert_eq!((stages_a, stages_b, stages_other, rest_apis), (1, 1, 0, 0));
    let reads: Vec<&crate::proxy::Logged> = log.iter().filter(|l| l.path == "/findings").collect();
    assert_eq!(reads.len(), 1, "one GetFindings for the account-region");
    for api in [&a, &b] {
        let prefix = format!("apigw-tracing/xray-active-tracing/aws/{m}/{R}/{api}/");
        assert!(
            reads[0].body.contains(&prefix) && reads[0].body.contains("PREFIX"),
            "{api}: {}",
            reads[0].body
        );
    }
    assert!(!reads[0].body.contains(&format!("/{other}/")));
    // a, b and b's sampling finding (traced): the event re-judged it too.
    let mut landed: Vec<String> = findings(&moto, m, R)
        .await
        .into_iter()
        .map(|f| format!("{} {}", f.generator_id, f.stage()))
        .collect();
    landed.sort();
    let mut want = [
        format!("apigw-tracing/sampling {b}/prod"),
        format!("apigw-tracing/xray-active-tracing {a}/prod"),
        format!("apigw-tracing/xray-active-tracing {b}/prod"),
    ];
    want.sort();
    assert_eq!(landed, want, "a and b, not other");
}

/// A batch whose deadline has come hands every change event back to SQS
/// (batchItemFailures), with no AWS call: only they are redelivered.
#[tokio::test]
async fn change_events_not_started_before_the_deadline_are_handed_back() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let a = create_api(&cfg, "a", &[("prod", None)]).await;
    // The whole 15 minutes are inside the margin: nothing may start.
    let handler = handler_via(
        &moto,
        &proxy,
        &[
            "--regions",
            R,
            "--accounts",
            MANAGEMENT,
            "--deadline-margin-secs",
            "600",
        ],
    )
    .await;
    let records = json!({"Records": [
        sqs_record("late-1", &cloudtrail("update-stage", MANAGEMENT, &a, "prod").to_string()),
        sqs_record("ignored", &cloudtrail("get-rest-apis", MANAGEMENT, &a, "prod").to_string()),
    ]});
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_secs(300);
    let mut context = lambda_runtime::Context::default();
    context.deadline = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let event =
        lambda_runtime::LambdaEvent::new(apigw_tracing::trigger::Event::from(records), context);
    let answer = handler.handle(event).await.unwrap();
    let out = serde_json::to_value(answer).unwrap();
    assert_eq!(
        out["batchItemFailures"],
        json!([{"itemIdentifier": "late-1"}]),
        "the late event comes back; the ignored one is done: {out:#}"
    );
    let api_calls = proxy
        .log()
        .iter()
        .filter(|l| l.service == "apigateway" || l.service == "securityhub")
        .count();
    assert_eq!(api_calls, 0, "nothing started");
}
