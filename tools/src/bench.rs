//! `make bench`: one account-region on moto with N REST APIs x M stages,
//! scanned by the real `apigw-tracing` binary. Prints wall time, AWS
//! requests against the minimum the scan needs, and peak RSS.
//!
//! Then the trace path: PATH_APIS REST APIs (half with a traced stage,
//! three functions each, some shared), scanned with the trace path off and
//! on (`bench_path.rs`).
//!
//! Usage: bench <apigw-tracing binary> [APIS] [STAGES] [APIGW_RPS] [PATH_APIS]

#[path = "bench_path.rs"]
mod bench_path;
#[path = "../../tests/it/lambda_kit.rs"]
mod lambda_kit;
#[path = "../../tests/it/loopback.rs"]
mod loopback;
#[path = "common/measured.rs"]
mod measured;
#[path = "../../tests/it/support.rs"]
mod support;
#[path = "../../tests/it/xray_kit.rs"]
mod xray_kit;

use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use support::*;

pub const REGION: &str = "eu-west-1";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args
        .get(1)
        .expect("usage: bench <apigw-tracing> [APIS] [STAGES] [APIGW_RPS]")
        .clone();
    let apis: usize = args.get(2).map_or(1000, |s| s.parse().expect("APIS"));
    let stages: usize = args.get(3).map_or(3, |s| s.parse().expect("STAGES"));
    let rps: String = args.get(4).cloned().unwrap_or_else(|| "5".into());
    let path_apis: usize = args.get(5).map_or(1000, |s| s.parse().expect("PATH_APIS"));
    apigw_tracing::logging::block_on(move || async move {
        bench(bin.clone(), apis, stages, rps.clone()).await;
        if path_apis > 0 {
            bench_path::bench(&bin, path_apis, &rps).await;
        }
    })
    .expect("bench thread");
}

async fn seed(moto: &Moto, apis: usize, stages: usize) {
    let cfg = moto.account_config(MANAGEMENT, REGION).await;
    let client = aws_sdk_apigateway::Client::new(&cfg);
    for i in 0..apis {
        let id = client
            .create_rest_api()
            .name(format!("api-{i:04}"))
            .send()
            .await
            .unwrap()
            .id
            .unwrap();
        for s in 0..stages {
            // moto does not check the deployment id; real AWS would.
            client
                .create_stage()
                .rest_api_id(&id)
                .stage_name(format!("stage{s}"))
                .deployment_id("bench")
                .tracing_enabled(s == 0)
                .send()
                .await
                .unwrap();
        }
    }
}

/// Runs the CLI, returning (summary, wall seconds, peak RSS in KiB).
fn run_scan(moto: &Moto, bin: &str, rps: &str) -> (Value, f64, i64) {
    run_scan_with(moto, bin, rps, &[])
}

/// The same with more arguments.
pub fn run_scan_with(moto: &Moto, bin: &str, rps: &str, extra: &[&str]) -> (Value, f64, i64) {
    let mut cmd = Command::new(bin);
    cmd.args([
        "scan",
        "--accounts",
        MANAGEMENT,
        "--regions",
        REGION,
        "--format",
        "json",
    ])
    .args(["--apigw-rps", rps, "--securityhub-rps", "10"])
    .args(extra);
    for (k, v) in moto.cli_env() {
        cmd.env(k, v);
    }
    let m = measured::run(cmd);
    assert!(m.status.success(), "apigw-tracing exited {}", m.status);
    (m.json, m.wall.as_secs_f64(), m.peak_rss_kib)
}

/// `existing`: findings already in Security Hub before this scan.
fn report(
    label: &str,
    s: &Value,
    wall: f64,
    rss_kib: i64,
    apis: usize,
    findings: usize,
    existing: usize,
) {
    report_against(
        label,
        s,
        wall,
        rss_kib,
        &scan_minimum(apis, findings, existing),
    );
}

/// The fewest requests a scan of one account-region needs: one GetRestApis
/// page per 500 APIs on AWS (moto ignores `limit` and returns one page),
/// one GetStages per API, one GetFindings page per 100 existing findings
/// (at least one), one BatchImportFindings per 100 findings.
pub fn scan_minimum(apis: usize, findings: usize, existing: usize) -> Vec<(&'static str, u64)> {
    vec![
        ("APIGateway.GetRestApis", 1),
        ("APIGateway.GetStages", apis as u64),
        (
            "SecurityHub.BatchImportFindings",
            findings.div_ceil(100) as u64,
        ),
        (
            "SecurityHub.GetFindings",
            existing.div_ceil(100).max(1) as u64,
        ),
        ("STS.GetCallerIdentity", 1),
    ]
}

/// Prints a run's figures: requests per operation against `minimum`.
pub fn report_against(label: &str, s: &Value, wall: f64, rss_kib: i64, minimum: &[(&str, u64)]) {
    let req = &s["requests"];
    let calls = |op: &str| req[op]["calls"].as_u64().unwrap_or(0);
    let attempts = |op: &str| req[op]["attempts"].as_u64().unwrap_or(0);
    println!("\n== {label}");
    println!("wall time          {wall:.2} s");
    println!("peak RSS           {:.1} MiB", rss_kib as f64 / 1024.0);
    println!(
        "stages / failing   {} / {}",
        s["totals"]["stages"], s["totals"]["failing"]
    );
    println!("findings imported  {}", s["totals"]["findings_imported"]);
    if s["trace_path"] == true {
        let t = &s["totals"];
        println!(
            "trace paths        {} ({} FAILED, {} unknown)",
            t["paths"], t["paths_failed"], t["paths_unknown"]
        );
    }
    println!(
        "{:<34} {:>8} {:>8} {:>8}",
        "operation", "calls", "minimum", "retries"
    );
    let (mut total, mut total_min) = (0, 0);
    for &(op, min) in minimum {
        let c = calls(op);
        total += c;
        total_min += min;
        println!(
            "{op:<34} {c:>8} {min:>8} {:>8}",
            attempts(op).saturating_sub(c)
        );
    }
    for (op, v) in req.as_object().into_iter().flatten() {
        if !minimum.iter().any(|(m, _)| m == op) {
            let c = v["calls"].as_u64().unwrap_or(0);
            total += c;
            println!(
                "{op:<34} {c:>8} {:>8} {:>8}",
                0,
                v["attempts"].as_u64().unwrap_or(0).saturating_sub(c)
            );
        }
    }
    let over = 100.0 * (total as f64 - total_min as f64) / total_min as f64;
    println!(
        "{:<34} {total:>8} {total_min:>8}   ({over:+.2}% over the minimum)",
        "total"
    );
}

async fn bench(bin: String, apis: usize, stages: usize, rps: String) {
    let moto = Moto::start();
    let t = Instant::now();
    seed(&moto, apis, stages).await;
    println!(
        "seeded {apis} APIs x {stages} stages in {MANAGEMENT} {REGION} on moto in {:.1} s (tracing on for stage0 only)",
        t.elapsed().as_secs_f64()
    );
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    let findings = apis * stages;
    let (s, wall, rss) = run_scan(&moto, &bin, &rps);
    report(
        &format!("first scan (--apigw-rps {rps})"),
        &s,
        wall,
        rss,
        apis,
        findings,
        0,
    );
    let (s, wall, rss) = run_scan(&moto, &bin, &rps);
    report(
        &format!("rescan, findings already in Security Hub (--apigw-rps {rps})"),
        &s,
        wall,
        rss,
        apis,
        findings,
        findings,
    );
    let floor = apis as f64 / rps.parse::<f64>().unwrap_or(5.0);
    println!("\npacing floor for {apis} GetStages at {rps} rps: {floor:.1} s");
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
