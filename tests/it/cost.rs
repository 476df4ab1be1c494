//! What tracing would cost, end to end: 14 days of hourly `Count` data
//! points put into moto's CloudWatch, sampling rules and the trace
//! destination on the test kit's X-Ray endpoint, `remediate` and `scan
//! --cost on` through the product, the arithmetic checked by hand.

use serde_json::Value;

use crate::harness::run_cli;
use crate::sampling::{create_rule, Rule};
use crate::support::*;

const R: &str = "eu-west-1";

/// `requests_per_hour` in every hour of the last 14 days for `api`/`stage`.
async fn seed_traffic(moto: &Moto, api: &str, stage: &str, requests_per_hour: f64) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let cw = aws_sdk_cloudwatch::Client::new(&moto.account_config(MANAGEMENT, R).await);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let points: Vec<MetricDatum> = (0..14 * 24)
        .map(|h| {
            let at = now - (f64::from(h) + 0.5) * 3600.0;
            MetricDatum::builder()
                .metric_name("Count")
                .dimensions(Dimension::builder().name("ApiName").value(api).build())
                .dimensions(Dimension::builder().name("Stage").value(stage).build())
                .timestamp(aws_smithy_types::DateTime::from_secs_f64(at))
                .value(requests_per_hour)
                .build()
        })
        .collect();
    for batch in points.chunks(500) {
        cw.put_metric_data()
            .namespace("AWS/ApiGateway")
            .set_metric_data(Some(batch.to_vec()))
            .send()
            .await
            .unwrap();
    }
}

async fn remediate_json(moto: &Moto, extra: &[&str]) -> Value {
    let mut argv = vec![
        "remediate",
        "--accounts",
        MANAGEMENT,
        "--regions",
        R,
        "--format",
        "json",
    ];
    argv.extend_from_slice(extra);
    let out = run_cli(moto, &moto.endpoint, &argv).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The report line of the stage of the API named `name`.
fn line<'a>(report: &'a Value, apis: &[(String, &str)], name: &str) -> &'a Value {
    let id = &apis.iter().find(|(_, n)| *n == name).unwrap().0;
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["api_id"] == id.as_str())
        .unwrap_or_else(|| panic!("{name}: {report:#}"))
}

fn close(got: &Value, want: f64) {
    let g = got
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {got}"));
    assert!((g - want).abs() < 1e-6 * want.max(1.0), "{g} != {want}");
}

#[tokio::test]
async fn remediate_prices_each_stage_it_would_turn_on_and_the_free_tier_once() {
    let moto = Moto::start();
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let mut apis = Vec::new();
    for name in ["shop", "slow", "twin", "twin", "quiet"] {
        apis.push((create_api(&cfg, name, &[("prod", None)]).await, name));
    }
    // 1 request/s for shop and slow; twin's series is shared; quiet has none.
    seed_traffic(&moto, "shop", "prod", 3600.0).await;
    seed_traffic(&moto, "slow", "prod", 3600.0).await;
    seed_traffic(&moto, "twin", "prod", 3600.0).await;
    create_rule(
        &moto,
        MANAGEMENT,
        Rule {
            name: "slow-one-percent",
            priority: 10,
            reservoir: 0,
            rate: 0.01,
            service_name: "slow/*",
            ..Rule::default()
        },
    )
    .await;
    let report = remediate_json(&moto, &[]).await;
    assert_eq!(report["totals"]["would_enable"], 5, "{report:#}");
    // The reads, once for the account-region: what the kit served.
    let xray: Vec<String> = moto.xray.calls().into_iter().map(|(_, _, op)| op).collect();
    assert_eq!(
        xray.iter()
            .filter(|op| *op == "GetTraceSegmentDestination")
            .count(),
        1,
        "{xray:?}"
    );

    // shop, under the Default rule at 1 request/s: high 1 trace/s (the
    // reservoir), low 0.05/s; x 2,592,000 s; x $5 per million.
    let shop = &line(&report, &apis, "shop")["estimate"];
    close(&shop["requests_per_month"], 2_592_000.0);
    close(&shop["traces_per_month"]["low"], 129_600.0);
    close(&shop["traces_per_month"]["high"], 2_592_000.0);
    close(&shop["usd_per_month"]["low"], 0.648);
    close(&shop["usd_per_month"]["high"], 12.96);
    assert_eq!(
        (
            &shop["rule"],
            &shop["reservoir"],
            &shop["rate"],
            &shop["destination"],
            &shop["window_days"]
        ),
        (
            &"Default".into(),
            &1.0.into(),
            &0.05.into(),
            &"XRay".into(),
            &14.into()
        )
    );
    // slow, under a 0.01-rate rule without a reservoir: 0.01 trace/s.
    let slow = &line(&report, &apis, "slow")["estimate"];
    assert_eq!(slow["rule"], "slow-one-percent");
    close(&slow["traces_per_month"]["low"], 25_920.0);
    close(&slow["traces_per_month"]["high"], 25_920.0);
    close(&slow["usd_per_month"]["high"], 0.1296);
    // Two APIs named twin share one CloudWatch series: not attributed.
    for s in report["stages"].as_array().unwrap() {
        if apis
            .iter()
            .any(|(id, n)| *n == "twin" && s["api_id"] == id.as_str())
        {
            let e = &s["estimate"];
            assert_eq!(
                (&e["traces_per_month"], &e["usd_per_month"]),
                (&Value::Null, &Value::Null)
            );
            assert!(
                e["notes"][0].as_str().unwrap().starts_with("ambiguous"),
                "{e}"
            );
        }
    }
    let quiet = &line(&report, &apis, "quiet")["estimate"];
    close(&quiet["traces_per_month"]["high"], 0.0);
    assert!(
        quiet["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("no_traffic"),
        "{quiet}"
    );

    // Totals: per account before the free tier; overall after it, once.
    let t = &report["estimate_totals"];
    let account = &t["accounts"][MANAGEMENT];
    assert_eq!(account["stages"], 5);
    close(&account["traces_per_month"]["low"], 155_520.0);
    close(&account["traces_per_month"]["high"], 2_617_920.0);
    close(&account["usd_per_month"]["high"], 13.0896);
    close(
        &t["overall"]["usd_per_month"]["low"],
        (155_520.0 - 100_000.0) * 5e-6,
    );
    close(
        &t["overall"]["usd_per_month"]["high"],
        (2_617_920.0 - 100_000.0) * 5e-6,
    );

    // Prices are flags; Transaction Search bills logs, not traces.
    moto.xray.set_destination(MANAGEMENT, R, "CloudWatchLogs");
    let report = remediate_json(
        &moto,
        &[
            "--price-per-million-traces",
            "4",
            "--free-traces-per-month",
            "0",
        ],
    )
    .await;
    let shop = &line(&report, &apis, "shop")["estimate"];
    assert_eq!(
        (&shop["destination"], &shop["usd_per_month"]),
        (&"CloudWatchLogs".into(), &Value::Null)
    );
    close(&shop["traces_per_month"]["high"], 2_592_000.0);
    assert!(
        shop["notes"].to_string().contains("Transaction Search"),
        "{shop}"
    );
    assert_eq!(report["estimate_totals"]["price_per_million_traces"], 4.0);

    // --no-estimate reads nothing for it.
    let report = remediate_json(&moto, &["--no-estimate"]).await;
    assert!(report.get("estimate_totals").is_none());
    assert!(report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s.get("estimate").is_none()));
}

#[tokio::test]
async fn scan_cost_on_prices_the_failed_stage_finding() {
    let moto = Moto::start();
    let cfg = moto.account_config(MANAGEMENT, R).await;
    enable_security_hub(&cfg).await;
    create_api(&cfg, "shop", &[("prod", None), ("live", Some(true))]).await;
    seed_traffic(&moto, "shop", "prod", 3600.0).await;
    let s = scan_with(
        &moto,
        &["--accounts", MANAGEMENT, "--regions", R, "--cost", "on"],
    )
    .await
    .summary;
    // One GetMetricData for the account-region's one unpriced stage (500
    // stages a call), one destination read.
    assert_eq!(
        s.requests["CloudWatch.GetMetricData"].calls, 1,
        "{:?}",
        s.requests
    );
    assert_eq!(s.requests["XRay.GetTraceSegmentDestination"].calls, 1);
    // The rules the sampling verdicts read serve the estimates: asked once.
    assert_eq!(s.requests["XRay.GetSamplingRules"].calls, 1);
    let failed = findings(&moto, MANAGEMENT, R)
        .await
        .into_iter()
        .find(|f| f.generator_id == "apigw-tracing/xray-active-tracing" && f.compliance == "FAILED")
        .unwrap();
    let field = |k: &str| failed.product_fields[&format!("apigw-tracing/scanner/{k}")].clone();
    assert_eq!(field("EstimatedTracesPerMonth"), "129600-2592000");
    assert_eq!(field("EstimatedUsdPerMonth"), "0.65-12.96");
    // Off (the default): no read, no price.
    let moto = Moto::start();
    let cfg = moto.account_config(MANAGEMENT, R).await;
    enable_security_hub(&cfg).await;
    create_api(&cfg, "shop", &[("prod", None)]).await;
    let s = scan_with(&moto, &["--accounts", MANAGEMENT, "--regions", R])
        .await
        .summary;
    assert!(!s.requests.contains_key("CloudWatch.GetMetricData"));
    let f = &findings(&moto, MANAGEMENT, R).await[0];
    assert!(!f
        .product_fields
        .contains_key("apigw-tracing/scanner/EstimatedUsdPerMonth"));
}
