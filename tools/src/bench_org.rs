//! `make bench` (second part): organization scale against a simulated AWS
//! endpoint on 127.0.0.1 that answers the real wire protocols the SDK
//! speaks (STS query/XML, Organizations JSON 1.1, API Gateway and Security
//! Hub REST-JSON), with a fixed latency and API Gateway's 10 requests/s per
//! account and region enforced with 429s. Also measures start-up: process
//! start to first AWS request (CLI) and to the first Lambda Runtime API call
//! (Lambda binary).
//!
//! Usage: bench_org <apigw-tracing> <apigw-tracing-lambda> [ACCOUNTS] [REGIONS] [APIS] [STAGES] [LATENCY_MS] [CONCURRENCY]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

#[path = "common/measured.rs"]
mod measured;

const MANAGEMENT: u64 = 100_000_000_000;
/// API Gateway's control-plane quota, per account and region.
const QUOTA_RPS: usize = 10;

#[derive(Clone, Copy)]
struct Shape {
    accounts: u64,
    apis: usize,
    stages: usize,
    latency: Duration,
}

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    connections: AtomicU64,
    throttled: AtomicU64,
    first_request: Mutex<Option<Instant>>,
    runtime_api_first: Mutex<Option<Instant>>,
    /// Recent API Gateway request times per (access key, region).
    windows: Mutex<HashMap<(String, String), VecDeque<Instant>>>,
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let cli = a.get(1).expect("usage: bench_org <apigw-tracing> <apigw-tracing-lambda> [ACCOUNTS] [REGIONS] [APIS] [STAGES] [LATENCY_MS] [CONCURRENCY]").clone();
    let lambda = a.get(2).expect("lambda binary").clone();
    let arg = |i: usize, d: u64| a.get(i).map_or(d, |s| s.parse().expect("number"));
    let shape = Shape {
        accounts: arg(3, 1000),
        apis: arg(5, 5) as usize,
        stages: arg(6, 3) as usize,
        latency: Duration::from_millis(arg(7, 40)),
    };
    let regions: Vec<&str> = apigw_tracing::model::KNOWN_REGIONS
        .iter()
        .copied()
        .filter(|r| !r.starts_with("cn-") && !r.starts_with("us-gov-"))
        .take(arg(4, 16) as usize)
        .collect();
    let concurrency = arg(8, 256);

    let stats = Arc::new(Stats::default());
    let addr = serve(shape, stats.clone());
    let endpoint = format!("http://{addr}");

    // Start-up of the Lambda binary: process start to its first call to
    // the Runtime API (which this server never answers).
    let t0 = Instant::now();
    let mut child = Command::new(&lambda)
        .envs(lambda_env(&addr, &endpoint, &regions))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the lambda binary");
    let deadline = Instant::now() + Duration::from_secs(10);
    let init = loop {
        if let Some(t) = *stats.runtime_api_first.lock().unwrap() {
            break t - t0;
        }
        assert!(
            Instant::now() < deadline,
            "the lambda binary never called the Runtime API"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    let _ = child.kill();
    let _ = child.wait();

    println!("simulated AWS on {endpoint}: {} accounts x {} regions x {} APIs x {} stages, {} ms latency, {QUOTA_RPS} rps quota per account-region (429 beyond)",
        shape.accounts, regions.len(), shape.apis, shape.stages, shape.latency.as_millis());
    let rps = 5.0;
    let mut cmd = Command::new(&cli);
    cmd.args(["scan", "--regions", &regions.join(","), "--format", "json"])
        .args([
            "--apigw-rps",
            "5",
            "--securityhub-rps",
            "5",
            "--concurrency",
            &concurrency.to_string(),
        ])
        .env_clear()
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", format!("AKIA{MANAGEMENT}"))
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    *stats.first_request.lock().unwrap() = None;
    let before = stats.requests.load(Ordering::SeqCst);
    let m = measured::run(cmd);
    let (summary, wall, code) = (m.json, m.wall, m.status);
    let first = stats.first_request.lock().unwrap().map(|t| t - m.started);
    let usage_rss_kib = m.peak_rss_kib;

    let account_regions = shape.accounts as usize * regions.len();
    // The floor the pacing and concurrency allow: per account-region, the
    // API Gateway calls (1 + APIS) are spaced 1/rps apart, the last one
    // answers after one latency, then GetFindings and BatchImportFindings
    // take one latency each; `concurrency` account-regions run at once.
    // Listing the organization (20 accounts per page) comes first.
    let per_region = shape.apis as f64 / rps + 3.0 * shape.latency.as_secs_f64();
    let waves = account_regions.div_ceil(concurrency as usize) as f64;
    let list_pages = (shape.accounts as f64 / 20.0).ceil();
    let floor = waves * per_region + (list_pages + 1.0) * shape.latency.as_secs_f64();

    let t = &summary["totals"];
    println!("\n== organization scale (--apigw-rps 5, --concurrency {concurrency})");
    println!("exit status        {code}  (status {})", summary["status"]);
    println!(
        "account-regions    {} scanned of {account_regions}; stages {}; findings imported {}",
        t["account_regions"], t["stages"], t["findings_imported"]
    );
    println!("wall time          {:.1} s", wall.as_secs_f64());
    println!("floor              {floor:.1} s  ({waves} waves x {per_region:.2} s + listing)  -> {:.2}x the floor", wall.as_secs_f64() / floor);
    println!(
        "peak RSS           {:.1} MiB",
        usage_rss_kib as f64 / 1024.0
    );
    println!(
        "requests           {} (server count), quota violations (429 sent) {}",
        stats.requests.load(Ordering::SeqCst) - before,
        stats.throttled.load(Ordering::SeqCst)
    );
    println!(
        "connections        {} opened by the scanner",
        stats.connections.load(Ordering::SeqCst)
    );
    let mut retries = 0;
    for (op, v) in summary["requests"].as_object().into_iter().flatten() {
        let (c, at) = (
            v["calls"].as_u64().unwrap_or(0),
            v["attempts"].as_u64().unwrap_or(0),
        );
        retries += at - c;
        println!("  {op:<34} {c:>8} calls {:>6} retries", at - c);
    }
    println!("  retries total {retries}");
    println!("\n== start-up");
    println!(
        "CLI: process start to first AWS request      {:.1} ms",
        first.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    );
    println!(
        "Lambda: process start to first Runtime API call {:.1} ms",
        init.as_secs_f64() * 1e3
    );
    for (name, path) in [("apigw-tracing", &cli), ("apigw-tracing-lambda", &lambda)] {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!("binary {name:<22} {:.1} MB", size as f64 / 1e6);
    }
}

fn lambda_env(addr: &SocketAddr, endpoint: &str, regions: &[&str]) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", addr.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", "apigw-tracing-scanner".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_ACCESS_KEY_ID", format!("AKIA{MANAGEMENT}")),
        ("AWS_SECRET_ACCESS_KEY", "bench".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("APIGW_TRACING_REGIONS", regions.join(",")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Starts the simulated endpoint on its own runtime thread.
fn serve(shape: Shape, stats: Arc<Stats>) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stats.connections.fetch_add(1, Ordering::SeqCst);
                let stats = stats.clone();
                tokio::spawn(async move {
                    let svc =
                        hyper::service::service_fn(move |req| handle(req, shape, stats.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn reply(status: u16, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn rest_error(status: u16, kind: &str) -> Response<Full<Bytes>> {
    let mut r = reply(
        status,
        "application/json",
        format!("{{\"message\": \"{kind}\"}}"),
    );
    r.headers_mut()
        .insert("x-amzn-errortype", kind.parse().unwrap());
    r
}

/// (access key, region, service) from the SigV4 Authorization header.
fn scope(req: &Request<Incoming>) -> (String, String, String) {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let cred = auth.split("Credential=").nth(1).unwrap_or("");
    let mut p = cred.split('/');
    let key = p.next().unwrap_or("").to_owned();
    let (_, region, service) = (
        p.next(),
        p.next().unwrap_or("").to_owned(),
        p.next().unwrap_or("").to_owned(),
    );
    (key, region, service)
}

/// Access keys carry the account: AKIA<account> (base) or ASIA<account> (assumed).
fn account_of(key: &str) -> u64 {
    key.get(4..)
        .and_then(|s| s.parse().ok())
        .unwrap_or(MANAGEMENT)
}

async fn handle(
    req: Request<Incoming>,
    shape: Shape,
    stats: Arc<Stats>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_owned();
    if path.starts_with("/2018-06-01/runtime/") {
        stats
            .runtime_api_first
            .lock()
            .unwrap()
            .get_or_insert(Instant::now());
        // Never answer: the measurement is the time to the first call.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    stats
        .first_request
        .lock()
        .unwrap()
        .get_or_insert(Instant::now());
    stats.requests.fetch_add(1, Ordering::SeqCst);
    let (key, region, service) = scope(&req);
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let method = req.method().clone();
    let body = req.into_body().collect().await?.to_bytes();
    tokio::time::sleep(shape.latency).await;
    let account = account_of(&key);

    if service == "apigateway" {
        let now = Instant::now();
        let mut w = stats.windows.lock().unwrap();
        let q = w.entry((key.clone(), region.clone())).or_default();
        while q
            .front()
            .is_some_and(|t| now - *t >= Duration::from_secs(1))
        {
            q.pop_front();
        }
        if q.len() >= QUOTA_RPS {
            stats.throttled.fetch_add(1, Ordering::SeqCst);
            return Ok(rest_error(429, "TooManyRequestsException"));
        }
        q.push_back(now);
    }
    Ok(match (method.as_str(), path.as_str(), service.as_str()) {
        ("POST", "/", "sts") => sts(&String::from_utf8_lossy(&body), account),
        ("POST", "/", "organizations") if target.ends_with(".ListAccounts") => {
            list_accounts(&body, shape)
        }
        ("GET", "/restapis", _) => {
            let items: Vec<Value> = (0..shape.apis)
                .map(|i| json!({"id": format!("api{account}{i:03}"), "name": format!("svc-{i}")}))
                .collect();
            reply(200, "application/json", json!({"item": items}).to_string())
        }
        ("GET", p, _) if p.starts_with("/restapis/") && p.ends_with("/stages") => {
            let items: Vec<Value> = (0..shape.stages)
                .map(|s| {
                    let mut st = json!({"stageName": format!("stage{s}"), "deploymentId": "d1", "cacheClusterEnabled": false});
                    if s == 0 {
                        st["tracingEnabled"] = json!(true);
                    }
                    st
                })
                .collect();
            reply(200, "application/json", json!({"item": items}).to_string())
        }
        ("POST", "/findings", _) => {
            reply(200, "application/json", json!({"Findings": []}).to_string())
        }
        ("POST", "/findings/import", _) => {
            let n = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["Findings"].as_array().map(|a| a.len()))
                .unwrap_or(0);
            reply(
                200,
                "application/json",
                json!({"FailedCount": 0, "SuccessCount": n, "FailedFindings": []}).to_string(),
            )
        }
        _ => rest_error(400, "UnknownOperationException"),
    })
}

fn sts(form: &str, caller: u64) -> Response<Full<Bytes>> {
    const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
    if form.contains("Action=GetCallerIdentity") {
        return reply(200, "text/xml", format!(
            "<GetCallerIdentityResponse xmlns=\"{NS}\"><GetCallerIdentityResult><Arn>arn:aws:iam::{caller}:user/bench</Arn>\
             <UserId>AIDABENCH</UserId><Account>{caller}</Account></GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>"));
    }
    // RoleArn=arn%3Aaws%3Aiam%3A%3A<account>%3Arole%2F...
    let account: u64 = form
        .split("iam%3A%3A")
        .nth(1)
        .and_then(|s| s.get(..12))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    reply(200, "text/xml", format!(
        "<AssumeRoleResponse xmlns=\"{NS}\"><AssumeRoleResult><Credentials><AccessKeyId>ASIA{account}</AccessKeyId>\
         <SecretAccessKey>bench</SecretAccessKey><SessionToken>bench</SessionToken><Expiration>{expires}</Expiration>\
         </Credentials><AssumedRoleUser><AssumedRoleId>AROABENCH:apigw-tracing</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/apigw-tracing-scan/apigw-tracing</Arn></AssumedRoleUser>\
         </AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"))
}

/// ListAccounts, 20 per page (the real maximum).
fn list_accounts(body: &[u8], shape: Shape) -> Response<Full<Bytes>> {
    let start: u64 = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["NextToken"].as_str().and_then(|t| t.parse().ok()))
        .unwrap_or(0);
    let end = (start + 20).min(shape.accounts);
    let accounts: Vec<Value> = (start..end)
        .map(|i| {
            let id = MANAGEMENT + i;
            json!({"Id": id.to_string(), "Arn": format!("arn:aws:organizations::{MANAGEMENT}:account/o-bench/{id}"),
                   "Email": format!("a{i}@example.com"), "Name": format!("account-{i}"), "Status": "ACTIVE", "State": "ACTIVE",
                   "JoinedMethod": "CREATED", "JoinedTimestamp": 1.7e9})
        })
        .collect();
    let mut out = json!({"Accounts": accounts});
    if end < shape.accounts {
        out["NextToken"] = json!(end.to_string());
    }
    reply(200, "application/x-amz-json-1.1", out.to_string())
}
