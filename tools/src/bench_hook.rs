//! `make bench` (fourth part): the CloudFormation hook. The decision for one
//! resource (parse the request, judge, build the answer), timed over many
//! runs in process; and the `apigw-tracing-hook` binary's cold start under a
//! minimal Lambda Runtime API on 127.0.0.1: process start to its first
//! `next` call (init), and to its answer of the first request.
//!
//! Usage: bench_hook <apigw-tracing-hook binary> <apigw-tracing-lambda binary>

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn request(props: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "clientRequestToken": "bench",
        "awsAccountId": "111122223333",
        "stackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/bench/1",
        "actionInvocationPoint": "CREATE_PRE_PROVISION",
        "requestData": {
            "targetName": "AWS::ApiGateway::Stage",
            "targetType": "RESOURCE",
            "targetLogicalId": "ProdStage",
            "targetModel": {"resourceProperties": props}
        },
        "requestContext": {"invocation": 1}
    })
}

/// Mean time of one `hook::handle` (from the request's JSON value).
fn time_decision(event: &serde_json::Value, runs: u32) -> Duration {
    let today = chrono::Utc::now().date_naive();
    // Warm-up, then the timed runs.
    for _ in 0..1000 {
        let _ = apigw_tracing::hook::handle(event.clone().into(), today);
    }
    let start = Instant::now();
    for _ in 0..runs {
        let r = apigw_tracing::hook::handle(std::hint::black_box(event.clone()).into(), today);
        std::hint::black_box(r.is_ok());
    }
    start.elapsed() / runs
}

/// Reads one HTTP/1.1 request: (request line, body).
fn read_request(r: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).ok()?;
    Some((line, body))
}

/// One cold start: (init: start to first `next`, start to the answer).
fn cold_start(bin: &str, event: &serde_json::Value) -> (Duration, Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel::<(&'static str, Instant)>();
    let body = event.to_string();
    std::thread::spawn(move || {
        let mut served = false;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let tx = tx.clone();
            let body = body.clone();
            let first = !served;
            served = true;
            std::thread::spawn(move || {
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                let mut sent = !first;
                while let Some((line, _)) = read_request(&mut r) {
                    if line.contains("/invocation/next") {
                        let _ = tx.send(("next", Instant::now()));
                        if sent {
                            // Only one event: hold later polls open.
                            std::thread::sleep(Duration::from_secs(60));
                            return;
                        }
                        sent = true;
                        let deadline = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_millis()
                            + 30_000;
                        let _ = write!(
                            w,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: bench-1\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:111122223333:function:apigw-tracing-hook\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                    } else {
                        if line.contains("/response") {
                            let _ = tx.send(("response", Instant::now()));
                        }
                        let _ = write!(w, "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{{}}");
                    }
                }
            });
        }
    });
    let start = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "apigw-tracing-hook")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the hook binary");
    let mut init = None;
    let mut answered = None;
    while answered.is_none() {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(("next", t)) if init.is_none() => init = Some(t - start),
            Ok(("response", t)) => answered = Some(t - start),
            Ok(_) => {}
            Err(_) => panic!("the hook binary did not answer"),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (init.unwrap(), answered.unwrap())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let hook = args
        .get(1)
        .expect("usage: bench_hook <apigw-tracing-hook> <apigw-tracing-lambda>");
    let scanner = args.get(2);
    println!(
        "== hook: one decision (parse the request, judge, answer), mean of 100,000, release build"
    );
    for (what, props) in [
        (
            "traced stage (SUCCESS)",
            serde_json::json!({"StageName": "prod", "TracingEnabled": "true", "RestApiId": "a1b2c3", "DeploymentId": "d1"}),
        ),
        (
            "untraced stage (FAILED)",
            serde_json::json!({"StageName": "dev", "RestApiId": "a1b2c3", "DeploymentId": "d1"}),
        ),
        (
            "exempt stage (SUCCESS)",
            serde_json::json!({"StageName": "legacy", "RestApiId": "a1b2c3", "Tags": [
            {"Key": "apigw-tracing:exempt", "Value": "vendor proxy"}, {"Key": "team", "Value": "orders"}]}),
        ),
    ] {
        let t = time_decision(&request(props), 100_000);
        println!("   {what:<26} {:>7.2} us", t.as_secs_f64() * 1e6);
    }
    println!("== hook: cold start under a local Runtime API (5 runs; the Hooks guide allows 30 s per invocation)");
    let event = request(serde_json::json!({"StageName": "dev"}));
    let mut runs: Vec<(Duration, Duration)> = (0..5).map(|_| cold_start(hook, &event)).collect();
    runs.sort();
    let (init, answer) = runs[runs.len() / 2];
    println!(
        "   median: process start to first next {:.1} ms, to the first answer {:.1} ms (best {:.1} / {:.1} ms)",
        init.as_secs_f64() * 1e3,
        answer.as_secs_f64() * 1e3,
        runs[0].0.as_secs_f64() * 1e3,
        runs[0].1.as_secs_f64() * 1e3,
    );
    for (name, path) in [
        ("apigw-tracing-hook", Some(hook)),
        ("apigw-tracing-lambda", scanner),
    ] {
        if let Some(p) = path {
            let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            println!("   binary {name:<22} {:.1} MB", size as f64 / 1e6);
        }
    }
}
