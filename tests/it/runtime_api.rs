//! A local Lambda Runtime API (the protocol `AWS_LAMBDA_RUNTIME_API` names)
//! on 127.0.0.1, enough to drive the real `apigw-tracing-lambda` binary:
//! `GET /2018-06-01/runtime/invocation/next` (long-polls until an event is
//! queued), `POST .../invocation/{id}/response`, `POST .../{id}/error` and
//! `POST .../init/error`. The binary runs as a child process, as in Lambda.
#![allow(dead_code)] // a toolbox: not every test uses every part

use std::collections::{BTreeMap, VecDeque};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::loopback::Loopback;

const PREFIX: &str = "/2018-06-01/runtime";

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(serde_json::Value),
    /// `Lambda-Runtime-Function-Error-Type` header (or errorType) and body.
    Error {
        error_type: String,
        body: serde_json::Value,
    },
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, String, u64)>,
    outcomes: BTreeMap<String, Outcome>,
    init_error: Option<(String, serde_json::Value)>,
    next_calls: usize,
}

pub struct RuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    state: Arc<Mutex<State>>,
    counter: Mutex<u64>,
    _server: Loopback,
}

impl RuntimeApi {
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = Loopback::serve(move |req| handle(req, st.clone()));
        Self {
            address: server.addr.to_string(),
            state,
            counter: Mutex::new(0),
            _server: server,
        }
    }

    /// Queues an event with a deadline `timeout` from now (epoch ms, as
    /// Lambda sends it); returns its request id.
    pub fn push(&self, event: &serde_json::Value, timeout: Duration) -> String {
        let deadline = std::time::SystemTime::now() + timeout;
        let ms = deadline
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        self.push_raw(event.to_string(), ms)
    }

    /// Queues a raw body with a raw deadline header value.
    pub fn push_raw(&self, body: String, deadline_ms: u64) -> String {
        let mut n = self.counter.lock().unwrap();
        *n += 1;
        let id = format!("req-{n}");
        self.state
            .lock()
            .unwrap()
            .queue
            .push_back((id.clone(), body, deadline_ms));
        id
    }

    /// Waits for the outcome of request `id`.
    pub fn outcome(&self, id: &str, within: Duration) -> Option<Outcome> {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if let Some(o) = self.state.lock().unwrap().outcomes.get(id) {
                return Some(o.clone());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Waits for an `/init/error` report: (error type, body).
    pub fn init_error(&self, within: Duration) -> Option<(String, serde_json::Value)> {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if let Some(e) = self.state.lock().unwrap().init_error.clone() {
                return Some(e);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// How many times the function asked for its next event.
    pub fn next_calls(&self) -> usize {
        self.state.lock().unwrap().next_calls
    }
}

fn reply(status: u16, headers: &[(&str, String)], body: String) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Full::new(Bytes::from(body))).unwrap()
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_owned();
    let method = req.method().as_str().to_owned();
    let error_type = req
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json = || serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(reply(404, &[], String::new()));
    };
    if method == "GET" && rest == "/invocation/next" {
        state.lock().unwrap().next_calls += 1;
        loop {
            let next = state.lock().unwrap().queue.pop_front();
            if let Some((id, event, deadline)) = next {
                let headers = [
                    ("lambda-runtime-aws-request-id", id),
                    ("lambda-runtime-deadline-ms", deadline.to_string()),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:apigw-tracing-scanner".into(),
                    ),
                    (
                        "lambda-runtime-trace-id",
                        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
                            .into(),
                    ),
                    ("content-type", "application/json".into()),
                ];
                return Ok(reply(200, &headers, event));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    if method == "POST" && rest == "/init/error" {
        let t = error_type.unwrap_or_default();
        state.lock().unwrap().init_error = Some((t, json()));
        return Ok(reply(202, &[], "{}".into()));
    }
    if let Some(tail) = rest.strip_prefix("/invocation/") {
        if let Some(id) = tail.strip_suffix("/response") {
            let outcome = Outcome::Response(json());
            state
                .lock()
                .unwrap()
                .outcomes
                .insert(id.to_owned(), outcome);
            return Ok(reply(202, &[], "{}".into()));
        }
        if let Some(id) = tail.strip_suffix("/error") {
            let body = json();
            let error_type = body["errorType"]
                .as_str()
                .map(str::to_owned)
                .or(error_type)
                .unwrap_or_default();
            let outcome = Outcome::Error { error_type, body };
            state
                .lock()
                .unwrap()
                .outcomes
                .insert(id.to_owned(), outcome);
            return Ok(reply(202, &[], "{}".into()));
        }
    }
    Ok(reply(404, &[], String::new()))
}

/// The real Lambda binary, started against `api` with exactly `env` (plus
/// PATH), its stdout (the JSON log lines) collected. Killed on drop.
pub struct LambdaProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl LambdaProcess {
    pub fn start(api: &RuntimeApi, env: &[(String, String)]) -> Self {
        Self::start_binary(env!("CARGO_BIN_EXE_apigw-tracing-lambda"), api, env)
    }

    /// `bin` (one of this package's Lambda binaries) under `api`.
    pub fn start_binary(bin: &str, api: &RuntimeApi, env: &[(String, String)]) -> Self {
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "apigw-tracing-scanner")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    log.lock().unwrap().push(line);
                }
            });
        }
        Self { child, log }
    }

    /// Every line the function wrote so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The lines that are JSON objects.
    pub fn json_log(&self) -> Vec<serde_json::Value> {
        self.log()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.is_object())
            .collect()
    }

    /// Waits for the process to exit; its status code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
