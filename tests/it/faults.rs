//! Faults moto cannot produce, injected by the proxy: throttling bursts,
//! 5xx, slow answers past the client timeout, Security Hub refusing a
//! region; and the pacing that must hold through all of it.

use std::time::Duration;

use apigw_tracing::report::{ErrorKind, RunStatus};
use apigw_tracing::scan::{self, ScanOptions};
use apigw_tracing::trigger::ScanRequest;

use crate::harness::*;
use crate::proxy::*;
use crate::support::*;

fn throttled(error_type: &str) -> Fault {
    Fault::rest_json(429, error_type, "Rate exceeded")
}

#[tokio::test]
async fn bursts_of_429_5xx_and_slow_answers_are_retried_and_every_finding_lands() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, "eu-west-1").await;
    for i in 0..10 {
        create_api(
            &cfg,
            &format!("api-{i}"),
            &[("prod", None), ("dev", Some(true))],
        )
        .await;
    }
    let get_stages_429 = proxy.add(
        any_get_stages,
        throttled("TooManyRequestsException"),
        Some(6),
    );
    let import_429 = proxy.add(
        batch_import(None),
        throttled("TooManyRequestsException"),
        Some(2),
    );
    let apis_503 = proxy.add(
        |s: &Seen| s.path == "/restapis",
        Fault::rest_json(503, "ServiceUnavailableException", "busy"),
        Some(1),
    );
    let findings_500 = proxy.add(
        |s: &Seen| s.path == "/findings",
        Fault::rest_json(500, "InternalException", "oops"),
        Some(1),
    );
    // One answer slower than the 1 s attempt timeout: the attempt is abandoned and retried.
    let slow = proxy.add(
        any_get_stages,
        Fault::Delay(Duration::from_secs(3)),
        Some(1),
    );

    let args = [
        "--regions",
        "eu-west-1",
        "--accounts",
        MANAGEMENT,
        "--apigw-rps",
        "50",
        "--attempt-timeout-secs",
        "1",
        "--max-attempts",
        "6",
    ];
    let s = scan_via(&moto, &proxy, &args).await;
    for rule in [get_stages_429, import_429, apis_503, findings_500, slow] {
        assert!(proxy.hits(rule) >= 1, "rule {rule} never fired");
    }
    assert_eq!(s.status, RunStatus::Complete, "{}", s.render_table());
    // 20 stage findings and the 10 traced stages' sampling findings.
    assert_eq!((s.totals.stages, s.totals.findings_imported), (20, 30));
    assert_eq!(findings(&moto, MANAGEMENT, "eu-west-1").await.len(), 30);
    // Retries are visible, apart from the calls.
    let stages = &s.requests["APIGateway.GetStages"];
    assert_eq!(stages.calls, 10);
    // 10 calls, 6 throttled answers and 1 timed-out attempt, each retried.
    assert!(stages.attempts > 10 + 6, "{stages:?}");
    let import = &s.requests["SecurityHub.BatchImportFindings"];
    assert_eq!((import.calls, import.attempts), (1, 3));
}

#[tokio::test]
async fn persistent_faults_make_a_partial_run_that_archives_nothing_and_a_rerun_converges() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let members = create_org(&moto, 2).await;
    let (m1, m2) = (members[0].clone(), members[1].clone());
    let mut throttled_api = String::new();
    for m in &members {
        for region in ["eu-west-1", "us-east-1"] {
            let cfg = moto.account_config(m, region).await;
            let api = create_api(&cfg, "svc", &[("prod", None), ("old", None)]).await;
            create_api(&cfg, "other", &[("prod", Some(true))]).await;
            if *m == m2 && region == "eu-west-1" {
                throttled_api = api;
            }
        }
    }
    let args = [
        "--regions",
        "eu-west-1,us-east-1",
        "--accounts",
        &format!("{m1},{m2}"),
        "--apigw-rps",
        "50",
        // The stage rule's partial-run story; sampling's is in sampling.rs.
        "--sampling",
        "off",
        "--max-attempts",
        "2",
    ];
    let clean = scan_via(&moto, &proxy, &args).await;
    assert_eq!(
        (clean.status, clean.totals.findings_imported),
        (RunStatus::Complete, 12)
    );

    // The `old` stage goes away everywhere; then: m2 eu-west-1 is throttled
    // on one API beyond every retry, and Security Hub refuses us-east-1.
    for m in &members {
        for region in ["eu-west-1", "us-east-1"] {
            let cfg = moto.account_config(m, region).await;
            let apis = aws_sdk_apigateway::Client::new(&cfg)
                .get_rest_apis()
                .send()
                .await
                .unwrap();
            let svc = apis
                .items()
                .iter()
                .find(|a| a.name() == Some("svc"))
                .unwrap()
                .id()
                .unwrap()
                .to_owned();
            delete_stage(&cfg, &svc, "old").await;
        }
    }
    proxy.add(
        get_stages_of(&throttled_api),
        throttled("TooManyRequestsException"),
        None,
    );
    proxy.add(
        get_findings("us-east-1"),
        Fault::rest_json(
            403,
            "InvalidAccessException",
            "Account is not subscribed to AWS Security Hub",
        ),
        None,
    );
    proxy.add(
        batch_import(Some("us-east-1")),
        Fault::rest_json(
            403,
            "InvalidAccessException",
            "Account is not subscribed to AWS Security Hub",
        ),
        None,
    );
    let before_us = [
        findings(&moto, &m1, "us-east-1").await,
        findings(&moto, &m2, "us-east-1").await,
    ];
    let before_m2_eu = findings(&moto, &m2, "eu-west-1").await;

    let s = scan_via(&moto, &proxy, &args).await;
    assert_eq!(s.status, RunStatus::Partial);
    let kinds: Vec<(ErrorKind, &str, &str)> = s
        .errors
        .iter()
        .map(|e| {
            (
                e.kind.clone(),
                e.account.as_ref().map_or("", |a| a.as_str()),
                e.region.map_or("", |r| r.as_str()),
            )
        })
        .collect();
    assert!(
        kinds.contains(&(ErrorKind::GetStages, m2.as_str(), "eu-west-1")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(ErrorKind::SecurityHubNotEnabled, m1.as_str(), "us-east-1")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(ErrorKind::SecurityHubNotEnabled, m2.as_str(), "us-east-1")),
        "{kinds:?}"
    );
    assert_eq!(s.errors.len(), 3, "{:#?}", s.errors);
    let throttle = s
        .errors
        .iter()
        .find(|e| e.kind == ErrorKind::GetStages)
        .unwrap();
    assert_eq!(
        (throttle.api_id.as_deref(), throttle.code.as_deref()),
        (
            Some(throttled_api.as_str()),
            Some("TooManyRequestsException")
        )
    );
    // Every finding that could land did: m1 eu-west-1 (its `old` archived)
    // and the un-throttled API of m2 eu-west-1.
    let m1_eu = findings(&moto, &m1, "eu-west-1").await;
    assert_eq!(
        m1_eu
            .iter()
            .filter(|f| f.record_state == "ARCHIVED")
            .count(),
        1
    );
    // Nothing archived where the inventory or Security Hub failed.
    assert_eq!(
        [
            findings(&moto, &m1, "us-east-1").await,
            findings(&moto, &m2, "us-east-1").await
        ],
        before_us
    );
    let m2_eu = findings(&moto, &m2, "eu-west-1").await;
    assert!(
        m2_eu.iter().all(|f| f.record_state == "ACTIVE"),
        "{m2_eu:#?}"
    );
    assert_eq!(m2_eu.len(), before_m2_eu.len());

    // The faults are gone: a rerun converges to the full, correct state.
    proxy.clear();
    let s = scan_via(&moto, &proxy, &args).await;
    assert_eq!(s.status, RunStatus::Complete, "{}", s.render_table());
    assert_eq!(s.totals.stages, 8);
    for m in &members {
        for region in ["eu-west-1", "us-east-1"] {
            let landed = findings(&moto, m, region).await;
            let active: Vec<_> = landed
                .iter()
                .filter(|f| f.record_state == "ACTIVE")
                .collect();
            let archived: Vec<_> = landed
                .iter()
                .filter(|f| f.record_state == "ARCHIVED")
                .collect();
            assert_eq!(
                (active.len(), archived.len()),
                (2, 1),
                "{m} {region}: {landed:#?}"
            );
            assert!(archived[0].resource_id.ends_with("/stages/old"));
        }
    }
}

#[tokio::test]
async fn the_rate_per_account_region_holds_whatever_the_concurrency_retries_included() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    for region in ["eu-west-1", "us-east-1"] {
        let cfg = moto.account_config(MANAGEMENT, region).await;
        for i in 0..25 {
            create_api(&cfg, &format!("api-{i}"), &[("prod", None)]).await;
        }
    }
    // Every 4th GetStages is throttled: its retry must wait its turn too.
    let throttle = proxy.add(
        every_nth(4, any_get_stages),
        throttled("TooManyRequestsException"),
        None,
    );
    let rps = 10;
    let args = [
        "--regions",
        "eu-west-1,us-east-1",
        "--accounts",
        MANAGEMENT,
        "--apigw-rps",
        "10",
        "--concurrency",
        "16",
        "--max-attempts",
        "10",
    ];
    let s = scan_via(&moto, &proxy, &args).await;
    assert_eq!(s.status, RunStatus::Complete, "{}", s.render_table());
    assert!(proxy.hits(throttle) >= 10);

    let log = proxy.log();
    for region in ["eu-west-1", "us-east-1"] {
        let times: Vec<_> = log
            .iter()
            .filter(|l| l.service == "apigateway" && l.region == region)
            .map(|l| l.at)
            .collect();
        assert!(times.len() >= 26, "{region}: {} requests", times.len());
        // The pacer releases requests at least 100 ms apart, so a 900 ms
        // window holds at most 9 of them; allowing `rps` (10) tolerates up
        // to 100 ms of arrival jitter on a busy machine, while a missing
        // or bypassed pacer (dozens per second) still fails.
        let window = Duration::from_millis(900);
        let worst = times
            .iter()
            .map(|&t0| {
                times
                    .iter()
                    .filter(|&&t| t >= t0 && t < t0 + window)
                    .count()
            })
            .max()
            .unwrap();
        assert!(
            worst <= rps,
            "{region}: {worst} API Gateway requests within one second"
        );
    }
    // The two regions are paced separately, side by side: their requests
    // overlap in time rather than one region waiting for the other.
    let span = |region: &str| {
        let t: Vec<_> = log
            .iter()
            .filter(|l| l.service == "apigateway" && l.region == region)
            .map(|l| l.at)
            .collect();
        (*t.iter().min().unwrap(), *t.iter().max().unwrap())
    };
    let (eu, us) = (span("eu-west-1"), span("us-east-1"));
    assert!(
        eu.0 < us.1 && us.0 < eu.1,
        "regions ran one after the other: {eu:?} {us:?}"
    );
}

#[tokio::test]
async fn at_the_deadline_nothing_new_starts_running_work_stops_and_both_are_reported() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let members = create_org(&moto, 3).await;
    one_failing_stage_each(&moto, &members, "eu-west-1").await;
    // Every GetRestApis answers after 2 s; one account-region at a time.
    proxy.add(
        |s: &Seen| s.path == "/restapis",
        Fault::Delay(Duration::from_secs(2)),
        None,
    );
    let cfg = config(&[
        "--regions",
        "eu-west-1",
        "--accounts",
        &members.join(","),
        "--concurrency",
        "1",
        "--apigw-rps",
        "50",
    ]);
    let env = moto.env_via(&proxy.endpoint, &cfg).await;
    let run = |deadline: tokio::time::Instant| {
        let opts = ScanOptions {
            deadline: Some(deadline),
            start_margin: Duration::from_millis(300),
            ..ScanOptions::default()
        };
        let (env, cfg) = (env.clone(), cfg.clone());
        async move {
            scan::run(&env, &cfg, &ScanRequest::default(), opts)
                .await
                .unwrap()
                .summary
        }
    };

    // The deadline has passed: nothing starts, everything is reported.
    let s = run(tokio::time::Instant::now()).await;
    assert_eq!(s.status, RunStatus::Partial);
    assert_eq!(s.results.len(), 0);
    assert_eq!(
        s.errors
            .iter()
            .filter(|e| e.kind == ErrorKind::NotScanned)
            .count(),
        3
    );

    // The first account-region completes (~2.2 s), the second starts and is
    // interrupted at 3.6 s, the third is not started.
    let started = tokio::time::Instant::now();
    let s = run(started + Duration::from_millis(3600)).await;
    assert!(
        started.elapsed() < Duration::from_millis(4500),
        "the run overran its deadline: {:?}",
        started.elapsed()
    );
    assert_eq!(s.status, RunStatus::Partial);
    assert_eq!(s.results.len(), 1, "{}", s.render_table());
    assert_eq!(s.results[0].account, members[0]);
    let mut not_scanned: Vec<(&str, &str)> = s
        .errors
        .iter()
        .map(|e| {
            (
                e.account.as_ref().map_or("", |a| a.as_str()),
                if e.message.contains("interrupted") {
                    "interrupted"
                } else {
                    "not started"
                },
            )
        })
        .collect();
    not_scanned.sort();
    let mut want = [
        (members[1].as_str(), "interrupted"),
        (members[2].as_str(), "not started"),
    ];
    want.sort();
    assert_eq!(not_scanned, want);
    assert!(s.errors.iter().all(|e| e.kind == ErrorKind::NotScanned));
    assert_eq!(findings(&moto, &members[0], "eu-west-1").await.len(), 1);
    assert!(findings(&moto, &members[1], "eu-west-1").await.is_empty());
    assert!(findings(&moto, &members[2], "eu-west-1").await.is_empty());
}
