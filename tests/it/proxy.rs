//! A fault-injecting HTTP proxy on 127.0.0.1 in front of moto: requests
//! that match a rule get the rule's fault (an AWS error answer, or a
//! delay), the rest are forwarded. It runs on its own runtime thread, so it
//! keeps serving while a test blocks on a CLI subprocess.
#![allow(dead_code)] // a toolbox: not every fault is used by every test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use crate::loopback::Loopback;

/// What a rule sees of a request.
pub struct Seen<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a str,
}

type Matcher = Box<dyn Fn(&Seen) -> bool + Send + Sync>;

#[derive(Clone)]
pub enum Fault {
    /// Answer with this instead of forwarding.
    Respond {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Wait, then forward (slow answers, client timeouts).
    Delay(Duration),
    /// Answer 200 with the JSON this gives for the rule's n-th hit (1, 2,
    /// ...): pages that go on, a service that never ends its paging.
    Pages(Arc<dyn Fn(usize) -> String + Send + Sync>),
}

impl Fault {
    /// STS's AccessDenied for AssumeRole (query protocol, XML).
    pub fn sts_access_denied() -> Self {
        Fault::Respond {
            status: 403,
            headers: vec![("content-type", "text/xml".into())],
            body: "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
                   <Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message>\
                   </Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
                .into(),
        }
    }

    /// A REST-JSON service error (API Gateway, Security Hub).
    pub fn rest_json(status: u16, error_type: &str, message: &str) -> Self {
        Fault::Respond {
            status,
            headers: vec![
                ("content-type", "application/json".into()),
                ("x-amzn-errortype", error_type.into()),
            ],
            body: format!("{{\"message\": \"{message}\"}}"),
        }
    }
}

struct Rule {
    matcher: Matcher,
    fault: Fault,
    /// How many more requests it applies to (`None`: all).
    remaining: Option<usize>,
    hits: usize,
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: std::time::Instant,
    pub method: String,
    pub path: String,
    /// Region and service from the SigV4 credential scope.
    pub region: String,
    pub service: String,
    /// Answered by a fault rule (not forwarded).
    pub faulted: bool,
    /// The request body (JSON protocols: the operation's input).
    pub body: String,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    forwarded: usize,
    log: Vec<Logged>,
}

/// (region, service) from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request`.
pub fn scope(headers: &HeaderMap) -> (String, String) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let cred = auth.split("Credential=").nth(1).unwrap_or("");
    let mut parts = cred.split('/').skip(2);
    let region = parts.next().unwrap_or("").to_owned();
    let service = parts.next().unwrap_or("").to_owned();
    (region, service)
}

pub struct FaultProxy {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    _server: Loopback,
}

impl FaultProxy {
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream.to_owned();
        let state = Arc::new(Mutex::new(State::default()));
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let st = state.clone();
        let server =
            Loopback::serve(move |req| handle(req, st.clone(), client.clone(), upstream.clone()));
        Self {
            endpoint: format!("http://{}", server.addr),
            state,
            _server: server,
        }
    }

    /// Adds a rule for the next `times` matching requests (`None`: all).
    /// Returns its index, for `hits`.
    pub fn add(
        &self,
        matcher: impl Fn(&Seen) -> bool + Send + Sync + 'static,
        fault: Fault,
        times: Option<usize>,
    ) -> usize {
        let mut s = self.state.lock().unwrap();
        s.rules.push(Rule {
            matcher: Box::new(matcher),
            fault,
            remaining: times,
            hits: 0,
        });
        s.rules.len() - 1
    }

    /// Requests rule `index` has caught.
    pub fn hits(&self, index: usize) -> usize {
        self.state.lock().unwrap().rules[index].hits
    }

    /// Stops injecting faults; every request is forwarded from now on.
    pub fn clear(&self) {
        let mut s = self.state.lock().unwrap();
        for r in &mut s.rules {
            r.remaining = Some(0);
        }
    }

    pub fn forwarded(&self) -> usize {
        self.state.lock().unwrap().forwarded
    }

    /// Every request seen so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: String,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let text = String::from_utf8_lossy(&body);
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_owned();
    let fault = {
        let seen = Seen {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            headers: &parts.headers,
            body: &text,
        };
        let mut s = state.lock().unwrap();
        let hit = s
            .rules
            .iter_mut()
            .find(|r| r.remaining != Some(0) && (r.matcher)(&seen))
            .map(|r| {
                r.hits += 1;
                if let Some(n) = r.remaining.as_mut() {
                    *n -= 1;
                }
                match &r.fault {
                    Fault::Pages(page) => Fault::Respond {
                        status: 200,
                        headers: vec![("content-type", "application/json".into())],
                        body: page(r.hits),
                    },
                    other => other.clone(),
                }
            });
        let faulted = matches!(hit, Some(Fault::Respond { .. }));
        if !faulted {
            s.forwarded += 1;
        }
        let (region, service) = scope(&parts.headers);
        s.log.push(Logged {
            at: std::time::Instant::now(),
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            region,
            service,
            faulted,
            body: seen.body.to_owned(),
        });
        hit
    };
    match fault {
        Some(Fault::Respond {
            status,
            headers,
            body,
        }) => {
            let mut resp = Response::builder().status(status);
            for (k, v) in headers {
                resp = resp.header(k, v);
            }
            Ok(resp.body(Full::new(Bytes::from(body))).unwrap())
        }
        other => {
            if let Some(Fault::Delay(d)) = other {
                tokio::time::sleep(d).await;
            }
            let mut fwd = Request::builder()
                .method(parts.method)
                .uri(format!("{upstream}{path_and_query}"));
            for (k, v) in &parts.headers {
                fwd = fwd.header(k, v);
            }
            let resp = match client.request(fwd.body(Full::new(body)).unwrap()).await {
                Ok(r) => r,
                Err(e) => {
                    return Ok(Response::builder()
                        .status(502)
                        .body(Full::new(Bytes::from(format!(
                            "proxy: upstream failed: {e}"
                        ))))
                        .unwrap())
                }
            };
            let (parts, body) = resp.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok(Response::from_parts(parts, Full::new(body)))
        }
    }
}

/// sts:AssumeRole of the scan role in `account`.
pub fn assume_role_in(account: &str) -> impl Fn(&Seen) -> bool + Send + Sync + 'static {
    let needle = format!("iam%3A%3A{account}%3Arole");
    move |s| s.body.contains("Action=AssumeRole") && s.body.contains(&needle)
}

/// apigateway:GetStages of one REST API.
pub fn get_stages_of(api_id: &str) -> impl Fn(&Seen) -> bool + Send + Sync + 'static {
    let path = format!("/restapis/{api_id}/stages");
    move |s| s.method == "GET" && s.path == path
}

/// apigateway:GetStages of any API.
pub fn any_get_stages(s: &Seen) -> bool {
    s.method == "GET" && s.path.starts_with("/restapis/") && s.path.ends_with("/stages")
}

/// securityhub:BatchImportFindings, in `region` (None: any).
pub fn batch_import(region: Option<&str>) -> impl Fn(&Seen) -> bool + Send + Sync + 'static {
    let region = region.map(str::to_owned);
    move |s| {
        s.path == "/findings/import" && region.as_ref().is_none_or(|r| scope(s.headers).0 == *r)
    }
}

/// securityhub:GetFindings, in `region`.
pub fn get_findings(region: &str) -> impl Fn(&Seen) -> bool + Send + Sync + 'static {
    let region = region.to_owned();
    move |s| s.path == "/findings" && scope(s.headers).0 == region
}

/// Every `nth` request that `inner` matches.
pub fn every_nth(
    nth: usize,
    inner: impl Fn(&Seen) -> bool + Send + Sync + 'static,
) -> impl Fn(&Seen) -> bool + Send + Sync + 'static {
    let count = std::sync::atomic::AtomicUsize::new(0);
    move |s| inner(s) && count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % nth == nth - 1
}
