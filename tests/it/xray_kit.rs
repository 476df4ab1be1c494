//! X-Ray's sampling API on 127.0.0.1, beside moto (moto 5.2 answers 404 to
//! it): `CreateSamplingRule`, `UpdateSamplingRule`, `DeleteSamplingRule`,
//! `GetSamplingRules` (paged), `GetSamplingStatisticSummaries` and
//! `GetTraceSegmentDestination`, in X-Ray's REST-JSON wire protocol, so the
//! real SDK reaches it through `AWS_ENDPOINT_URL_XRAY`. Rules are kept per
//! account and region, as AWS keeps them: the region comes from the
//! request's SigV4 credential scope, the account from moto's STS
//! `GetCallerIdentity` asked with the same access key (moto checks no
//! signature). Every account-region starts with AWS's Default rule.
#![allow(dead_code)] // each user needs a part

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{json, Value};

use super::loopback::Loopback;

/// Records per GetSamplingRules page: small, so paging is exercised.
const PAGE: usize = 2;

type Key = (String, String);

#[derive(Default)]
struct State {
    moto: String,
    /// Rules per (account, region), by name.
    rules: BTreeMap<Key, BTreeMap<String, Value>>,
    stats: BTreeMap<Key, Vec<Value>>,
    destination: BTreeMap<Key, String>,
    /// Access key id -> account, as moto's STS answered.
    accounts: HashMap<String, String>,
    /// (account, region, operation) of every request served.
    calls: Vec<(String, String, String)>,
}

pub struct XRayKit {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    _server: Loopback,
}

impl XRayKit {
    /// Serves X-Ray beside the moto at `moto` (asked who each caller is).
    pub fn start(moto: &str) -> Self {
        let state = Arc::new(Mutex::new(State {
            moto: moto.to_owned(),
            ..State::default()
        }));
        let st = state.clone();
        let server = Loopback::serve(move |req| handle(req, st.clone()));
        Self {
            endpoint: format!("http://{}", server.addr),
            state,
            _server: server,
        }
    }

    /// What X-Ray's statistics say of `rule` in `account`/`region`: one
    /// recent 10-second window.
    pub fn set_statistics(
        &self,
        account: &str,
        region: &str,
        rule: &str,
        requests: i64,
        sampled: i64,
    ) {
        let mut s = self.state.lock().unwrap();
        s.stats
            .entry((account.into(), region.into()))
            .or_default()
            .push(json!({
                "RuleName": rule,
                "Timestamp": now(),
                "RequestCount": requests,
                "BorrowCount": 0,
                "SampledCount": sampled,
            }));
    }

    /// `XRay` (the default) or `CloudWatchLogs` (Transaction Search).
    pub fn set_destination(&self, account: &str, region: &str, destination: &str) {
        let mut s = self.state.lock().unwrap();
        s.destination
            .insert((account.into(), region.into()), destination.into());
    }

    /// (account, region, operation) of every request served so far.
    pub fn calls(&self) -> Vec<(String, String, String)> {
        self.state.lock().unwrap().calls.clone()
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn default_rule(account: &str, region: &str) -> Value {
    json!({
        "RuleName": "Default",
        "RuleARN": format!("arn:aws:xray:{region}:{account}:sampling-rule/Default"),
        "ResourceARN": "*", "Priority": 10000, "FixedRate": 0.05, "ReservoirSize": 1,
        "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*",
        "URLPath": "*", "Version": 1, "Attributes": {}
    })
}

fn record(rule: &Value) -> Value {
    json!({"SamplingRule": rule, "CreatedAt": 0.0, "ModifiedAt": now()})
}

/// The access key id and region of a SigV4-signed request.
fn caller(headers: &hyper::HeaderMap) -> Option<(String, String)> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    let mut parts = cred.split('/');
    let key = parts.next()?.to_owned();
    let region = parts.nth(1)?.to_owned();
    Some((key, region))
}

/// moto's STS, asked who holds `key` (and `token`): moto maps assumed-role
/// keys to the role's account and checks no signature.
fn account_of(moto: &str, key: &str, token: Option<&str>) -> std::io::Result<String> {
    let addr = moto.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let token = token
        .map(|t| format!("X-Amz-Security-Token: {t}\r\n"))
        .unwrap_or_default();
    write!(
        conn,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/sts/aws4_request, \
         SignedHeaders=host, Signature=0\r\n{token}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    answer
        .split("<Account>")
        .nth(1)
        .and_then(|s| s.split("</Account>").next())
        .map(str::to_owned)
        .ok_or_else(|| std::io::Error::other(format!("no account in {answer:.200}")))
}

fn answer(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn error(status: u16, kind: &str, message: &str) -> Response<Full<Bytes>> {
    let mut r = answer(status, json!({ "Message": message }));
    r.headers_mut()
        .insert("x-amzn-errortype", kind.parse().unwrap());
    r
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let input: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let Some((key, region)) = caller(&parts.headers) else {
        return Ok(error(
            403,
            "MissingAuthenticationTokenException",
            "not signed",
        ));
    };
    let token = parts
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (known, moto) = {
        let s = state.lock().unwrap();
        (s.accounts.get(&key).cloned(), s.moto.clone())
    };
    let account = match known {
        Some(a) => a,
        None => {
            let k = key.clone();
            let asked =
                tokio::task::spawn_blocking(move || account_of(&moto, &k, token.as_deref()))
                    .await
                    .expect("STS lookup thread");
            match asked {
                Ok(a) => {
                    state.lock().unwrap().accounts.insert(key, a.clone());
                    a
                }
                Err(e) => return Ok(error(403, "UnrecognizedClientException", &e.to_string())),
            }
        }
    };
    let op = parts.uri.path().trim_start_matches('/').to_owned();
    let mut s = state.lock().unwrap();
    s.calls.push((account.clone(), region.clone(), op.clone()));
    let at = (account.clone(), region.clone());
    let rules = s.rules.entry(at.clone()).or_insert_with(|| {
        BTreeMap::from([("Default".to_owned(), default_rule(&account, &region))])
    });
    let out = match op.as_str() {
        "CreateSamplingRule" => {
            let mut rule = input["SamplingRule"].clone();
            let Some(name) = rule["RuleName"].as_str().map(str::to_owned) else {
                return Ok(error(
                    400,
                    "InvalidRequestException",
                    "RuleName is required",
                ));
            };
            if rules.contains_key(&name) {
                return Ok(error(400, "InvalidRequestException", "Rule already exists"));
            }
            rule["RuleARN"] = json!(format!(
                "arn:aws:xray:{region}:{account}:sampling-rule/{name}"
            ));
            if rule.get("Attributes").is_none() {
                rule["Attributes"] = json!({});
            }
            rules.insert(name, rule.clone());
            answer(200, json!({ "SamplingRuleRecord": record(&rule) }))
        }
        "UpdateSamplingRule" => {
            let update = &input["SamplingRuleUpdate"];
            let name = update["RuleName"].as_str().unwrap_or_default();
            let Some(rule) = rules.get_mut(name) else {
                return Ok(error(
                    400,
                    "InvalidRequestException",
                    "Sampling rule does not exist",
                ));
            };
            for (k, v) in update.as_object().into_iter().flatten() {
                if k != "RuleName" && k != "RuleARN" {
                    rule[k] = v.clone();
                }
            }
            answer(200, json!({ "SamplingRuleRecord": record(rule) }))
        }
        "DeleteSamplingRule" => {
            let name = input["RuleName"].as_str().unwrap_or_default();
            match rules.remove(name) {
                Some(rule) => answer(200, json!({ "SamplingRuleRecord": record(&rule) })),
                None => error(
                    400,
                    "InvalidRequestException",
                    "Sampling rule does not exist",
                ),
            }
        }
        "GetSamplingRules" => {
            let from: usize = input["NextToken"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let all: Vec<Value> = rules.values().map(record).collect();
            let page: Vec<Value> = all.iter().skip(from).take(PAGE).cloned().collect();
            let mut out = json!({ "SamplingRuleRecords": page });
            if from + PAGE < all.len() {
                out["NextToken"] = json!((from + PAGE).to_string());
            }
            answer(200, out)
        }
        "SamplingStatisticSummaries" => {
            let stats = s.stats.get(&at).cloned().unwrap_or_default();
            answer(200, json!({ "SamplingStatisticSummaries": stats }))
        }
        "GetTraceSegmentDestination" => {
            let d = s.destination.get(&at).cloned().unwrap_or("XRay".into());
            answer(200, json!({ "Destination": d, "Status": "ACTIVE" }))
        }
        other => error(
            404,
            "UnknownOperationException",
            &format!("{other} is not served here"),
        ),
    };
    Ok(out)
}
