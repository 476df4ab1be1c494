//! Test harness: a real `moto_server` on a free loopback port, reached
//! through the real SDK clients; seeding helpers for organizations, REST
//! API stages and Security Hub; and a way to read back what landed.
#![allow(dead_code)] // not every helper is used by every test

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apigw_tracing::aws::AwsEnv;
use apigw_tracing::config::{Config, ScanArgs};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};

use crate::xray_kit::XRayKit;

pub const MANAGEMENT: &str = "123456789012";
pub const ROLE: &str = "apigw-tracing-scan";

/// A moto server lent to one test. Servers are shared by the tests of a
/// process: one is started only when none is free, and each goes back to
/// the pool on drop, wiped (`POST /moto-api/reset`), so a test never sees
/// another's state and the suite starts as many servers as tests run at
/// once, not one per test.
pub struct Moto {
    server: Option<Server>,
    pub endpoint: String,
    /// X-Ray's sampling API beside this moto (moto has none): one per
    /// lent server, so no test sees another's rules.
    pub xray: XRayKit,
}

/// Where each service's requests go: X-Ray to the kit, the rest to `all`
/// (moto, or a fault proxy in front of it). The SDK asks this for the
/// endpoint of every client made from the configuration, as it asks
/// `AWS_ENDPOINT_URL_XRAY` and `AWS_ENDPOINT_URL` in a real process.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub all: String,
    pub xray: String,
}

impl aws_types::service_config::LoadServiceConfig for Endpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        (key.env() == "AWS_ENDPOINT_URL").then(|| match key.service_id() {
            "XRay" => self.xray.clone(),
            _ => self.all.clone(),
        })
    }
}

/// A running `moto_server`, under a shell that kills it when this process
/// ends (its standard input, held here, closes then), whichever thread
/// started it.
struct Server {
    _child: Child,
    endpoint: String,
}

static POOL: std::sync::Mutex<Vec<Server>> = std::sync::Mutex::new(Vec::new());

fn moto_binary() -> PathBuf {
    if let Ok(p) = std::env::var("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    // The workspace root's ./.venv, from this crate or from tools/.
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = manifest
        .ancestors()
        .map(|dir| dir.join(".venv/bin/moto_server"))
        .find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!(
            "moto_server not found in ./.venv above {}: the integration tests need it; \
             run `make it` (it installs moto), or `make venv` then `cargo test --test it`, \
             or set MOTO_SERVER",
            manifest.display()
        )
    })
}

impl Server {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("sh")
            .args([
                "-c",
                r#""$0" "$@" & moto=$!; read -r _; kill $moto; wait $moto"#,
            ])
            .arg(moto_binary())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            _child: child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Wipes every backend (and invalidates credentials handed out).
    fn reset(&self) -> std::io::Result<()> {
        use std::io::{Read, Write};
        let addr = self.endpoint.trim_start_matches("http://");
        let mut conn = TcpStream::connect(addr)?;
        conn.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            conn,
            "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        conn.read_to_string(&mut answer)?;
        if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
            Ok(())
        } else {
            Err(std::io::Error::other(
                answer.lines().next().unwrap_or("").to_owned(),
            ))
        }
    }
}

impl Moto {
    /// A clean moto server: a free one from the pool, or a new one.
    pub fn start() -> Self {
        let free = POOL.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let server = free.unwrap_or_else(Server::start);
        Self {
            endpoint: server.endpoint.clone(),
            xray: XRayKit::start(&server.endpoint),
            server: Some(server),
        }
    }

    /// The management account's configuration (moto's default account).
    pub async fn sdk_config(&self, region: &str) -> SdkConfig {
        self.sdk_config_via(&self.endpoint, region).await
    }

    /// The management account's configuration with every request but
    /// X-Ray's sent to `endpoint` (this server, or a proxy in front of it).
    pub async fn sdk_config_via(&self, endpoint: &str, region: &str) -> SdkConfig {
        let loaded = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await;
        loaded
            .into_builder()
            .service_config(Endpoints {
                all: endpoint.to_owned(),
                xray: self.xray.endpoint.clone(),
            })
            .build()
    }

    /// Credentials of `account` (moto maps assumed-role credentials to the
    /// role's account).
    pub async fn account_config(&self, account: &str, region: &str) -> SdkConfig {
        let base = self.sdk_config(region).await;
        if account == MANAGEMENT {
            return base;
        }
        let sts = aws_sdk_sts::Client::new(&base);
        let c = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/{ROLE}"))
            .role_session_name("seed")
            .send()
            .await
            .unwrap()
            .credentials
            .unwrap();
        base.into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    c.access_key_id,
                    c.secret_access_key,
                    Some(c.session_token),
                    None,
                    "seed",
                )),
            )
            .build()
    }

    /// The scanner's environment, as the management account.
    pub async fn env(&self, cfg: &Config) -> AwsEnv {
        AwsEnv::from_sdk_config(self.sdk_config("us-east-1").await, cfg)
    }

    /// The scanner's environment with every request sent to `endpoint` (a
    /// fault proxy in front of this server).
    pub async fn env_via(&self, endpoint: &str, cfg: &Config) -> AwsEnv {
        let sdk = self.sdk_config_via(endpoint, "us-east-1").await;
        AwsEnv::from_sdk_config(sdk, cfg)
    }

    /// Environment variables that point the CLI at this server.
    pub fn cli_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ENDPOINT_URL_XRAY", self.xray.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let Some(server) = self.server.take() else {
            return;
        };
        // A server that cannot be wiped is not lent again (dropping it
        // closes its shell's input, which stops it).
        if server.reset().is_ok() {
            POOL.lock().unwrap_or_else(|p| p.into_inner()).push(server);
        }
    }
}

/// Scanner settings from CLI-style arguments (defaults for the rest).
pub fn config(args: &[&str]) -> Config {
    ScanArgs::from_args(args.iter().copied())
        .unwrap()
        .validate()
        .unwrap()
}

/// One invocation of `handler` with `event`, answered as JSON (what the
/// Runtime API would return), with a context that carries no deadline.
pub async fn invoke(
    handler: &apigw_tracing::lambda::Handler,
    event: serde_json::Value,
) -> Result<serde_json::Value, apigw_tracing::lambda::HandlerError> {
    let event = lambda_runtime::LambdaEvent::new(
        apigw_tracing::trigger::Event::from(event),
        lambda_runtime::Context::default(),
    );
    let answer = handler.handle(event).await?;
    Ok(serde_json::to_value(answer).expect("the answer serialises"))
}

/// One scan of this server as the management account, CLI-style arguments.
pub async fn scan_with(moto: &Moto, args: &[&str]) -> apigw_tracing::scan::ScanOutput {
    scan_at(moto, &moto.endpoint, args).await
}

/// The same, every request sent to `endpoint` (this server, or a proxy in
/// front of it).
pub async fn scan_at(
    moto: &Moto,
    endpoint: &str,
    args: &[&str],
) -> apigw_tracing::scan::ScanOutput {
    let cfg = config(args);
    let env = moto.env_via(endpoint, &cfg).await;
    let req = apigw_tracing::trigger::ScanRequest::default();
    apigw_tracing::scan::run(
        &env,
        &cfg,
        &req,
        apigw_tracing::scan::ScanOptions::default(),
    )
    .await
    .unwrap()
}

/// Creates the organization (management = moto's default account) and
/// `members` member accounts; returns the member ids.
pub async fn create_org(moto: &Moto, members: usize) -> Vec<String> {
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config("us-east-1").await);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..members {
        let status = org
            .create_account()
            .account_name(format!("member-{i}"))
            .email(format!("member-{i}@example.com"))
            .send()
            .await
            .unwrap()
            .create_account_status
            .unwrap();
        ids.push(status.account_id.unwrap());
    }
    ids
}

/// Tracing setting of a seeded stage: `None` leaves `tracingEnabled` unset.
pub type Tracing = Option<bool>;

/// Creates a REST API with one deployment and the given stages.
pub async fn create_api(cfg: &SdkConfig, name: &str, stages: &[(&str, Tracing)]) -> String {
    let api = aws_sdk_apigateway::Client::new(cfg);
    let id = api
        .create_rest_api()
        .name(name)
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    if stages.is_empty() {
        return id;
    }
    let root = root_resource(&api, &id).await;
    // A deployment needs a method with an integration; MOCK needs nothing else.
    api.put_method()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    api.put_integration()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    let dep = api
        .create_deployment()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    for (stage, tracing) in stages {
        api.create_stage()
            .rest_api_id(&id)
            .stage_name(*stage)
            .deployment_id(&dep)
            .send()
            .await
            .unwrap();
        if let Some(on) = tracing {
            set_tracing(cfg, &id, stage, *on).await;
        }
    }
    id
}

/// The id of a new REST API's root resource (`/`).
pub async fn root_resource(api: &aws_sdk_apigateway::Client, api_id: &str) -> String {
    let out = api
        .get_resources()
        .rest_api_id(api_id)
        .send()
        .await
        .unwrap();
    out.items()[0].id().unwrap().to_owned()
}

/// Gives each account one REST API `svc` with a `prod` stage whose
/// tracing is unset (one FAILED finding each) in `region`.
pub async fn one_failing_stage_each(moto: &Moto, accounts: &[String], region: &str) {
    for account in accounts {
        create_api(
            &moto.account_config(account, region).await,
            "svc",
            &[("prod", None)],
        )
        .await;
    }
}

pub async fn set_tracing(cfg: &SdkConfig, api_id: &str, stage: &str, on: bool) {
    aws_sdk_apigateway::Client::new(cfg)
        .update_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/tracingEnabled")
                .value(on.to_string())
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// (Re-)creates `stage` on `api_id`'s first deployment, with tags (moto
/// has no TagResource for stages, so tagging means re-creating).
pub async fn put_stage(
    cfg: &SdkConfig,
    api_id: &str,
    stage: &str,
    tracing: bool,
    tags: &[(&str, &str)],
) {
    let api = aws_sdk_apigateway::Client::new(cfg);
    let _ = api
        .delete_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await;
    let deployments = api
        .get_deployments()
        .rest_api_id(api_id)
        .send()
        .await
        .unwrap();
    let dep = deployments
        .items()
        .first()
        .and_then(|d| d.id())
        .unwrap_or("none")
        .to_owned();
    let mut req = api
        .create_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .deployment_id(dep)
        .tracing_enabled(tracing);
    for (k, v) in tags {
        req = req.tags(*k, *v);
    }
    req.send().await.unwrap();
}

pub async fn delete_stage(cfg: &SdkConfig, api_id: &str, stage: &str) {
    aws_sdk_apigateway::Client::new(cfg)
        .delete_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await
        .unwrap();
}

pub async fn delete_api(cfg: &SdkConfig, api_id: &str) {
    aws_sdk_apigateway::Client::new(cfg)
        .delete_rest_api()
        .rest_api_id(api_id)
        .send()
        .await
        .unwrap();
}

pub async fn enable_security_hub(cfg: &SdkConfig) {
    aws_sdk_securityhub::Client::new(cfg)
        .enable_security_hub()
        .send()
        .await
        .unwrap();
}

/// What a test needs to know of a finding in Security Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    pub id: String,
    pub account: String,
    pub product_arn: String,
    pub region: String,
    pub resource_id: String,
    pub compliance: String,
    pub record_state: String,
    pub severity: String,
    pub created_at: String,
    pub updated_at: String,
    pub generator_id: String,
    pub description: String,
    pub product_fields: std::collections::BTreeMap<String, String>,
}

impl Landed {
    /// `apiId/stage` of the finding's resource.
    pub fn stage(&self) -> String {
        let (_, rest) = self.resource_id.split_once("/restapis/").unwrap();
        rest.replace("/stages/", "/")
    }
}

/// Every finding in `account`'s Security Hub in `region`, all pages.
pub async fn findings(moto: &Moto, account: &str, region: &str) -> Vec<Landed> {
    let hub = aws_sdk_securityhub::Client::new(&moto.account_config(account, region).await);
    let mut pages = hub.get_findings().max_results(100).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        for f in page.unwrap().findings() {
            out.push(Landed {
                id: f.id().unwrap_or_default().into(),
                account: f.aws_account_id().unwrap_or_default().into(),
                product_arn: f.product_arn().unwrap_or_default().into(),
                region: f.region().unwrap_or_default().into(),
                resource_id: f
                    .resources()
                    .first()
                    .and_then(|r| r.id())
                    .unwrap_or_default()
                    .into(),
                compliance: f
                    .compliance()
                    .and_then(|c| c.status())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                record_state: f
                    .record_state()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                severity: f
                    .severity()
                    .and_then(|s| s.label())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                created_at: f.created_at().unwrap_or_default().into(),
                updated_at: f.updated_at().unwrap_or_default().into(),
                generator_id: f.generator_id().unwrap_or_default().into(),
                description: f.description().unwrap_or_default().into(),
                product_fields: f
                    .product_fields()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}
