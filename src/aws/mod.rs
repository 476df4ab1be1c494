//! The AWS adapters, together: everything that imports an SDK type lives in
//! this folder and hands the rest of the crate the project's own types.
//!
//! This file: the base configuration (retry, timeouts), per-account
//! sessions, and a count of every request sent.

pub mod accounts;
pub mod cost;
pub mod fanout;
pub mod functions;
pub mod inventory;
pub mod pacing;
pub mod publish;
pub mod remediation;
pub mod sampling;
pub mod wiring;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::Config;
use crate::model::{AccountId, AccountRegion};
use crate::report::OpCount;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use pacing::{PacedHttpClient, Pacer};

#[derive(Debug, Clone, Default)]
pub struct RequestStats(Arc<Mutex<BTreeMap<String, OpCount>>>);

impl RequestStats {
    fn bump(&self, cfg: &ConfigBag, f: impl FnOnce(&mut OpCount)) {
        if let Some(m) = cfg.load::<Metadata>() {
            // "API Gateway" -> "APIGateway": keys without spaces.
            let key = format!("{}.{}", m.service().replace(' ', ""), m.name());
            self.bump_key(key, f);
        }
    }

    fn bump_key(&self, key: String, f: impl FnOnce(&mut OpCount)) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(map.entry(key).or_default());
    }

    /// Records a call made by a client we do not build (the SDK's
    /// AssumeRoleProvider has its own STS client); its retries, if any,
    /// are not visible here.
    pub fn record_call(&self, key: &str) {
        self.bump_key(key.to_owned(), |c| {
            c.calls += 1;
            c.attempts += 1;
        });
    }

    pub fn snapshot(&self) -> BTreeMap<String, OpCount> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[derive(Debug)]
struct CountRequests(RequestStats);

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "apigw-tracing::CountRequests"
    }

    // Once per operation; the operation's metadata is in the bag by now
    // (it is not yet at `read_before_execution`).
    fn read_before_serialization(
        &self,
        _ctx: &BeforeSerializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.bump(cfg, |c| c.calls += 1);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.bump(cfg, |c| c.attempts += 1);
        Ok(())
    }
}

/// The scanner's own AWS configuration plus what every client shares.
#[derive(Debug, Clone)]
pub struct AwsEnv {
    pub base: SdkConfig,
    pub stats: RequestStats,
    /// The caller's identity, once known; shared by every copy of this
    /// environment (see `accounts::caller_identity`).
    identity: Arc<tokio::sync::OnceCell<crate::model::Identity>>,
}

impl AwsEnv {
    /// Loads the standard SDK configuration (environment, profile, Lambda
    /// role; `AWS_ENDPOINT_URL` included) and applies the scan's retry and
    /// timeout settings.
    /// Boxed so callers' futures stay provably `Send` (rust-lang/rust#102211).
    pub fn load(cfg: &Config) -> futures::future::BoxFuture<'_, Self> {
        use futures::FutureExt;
        async move {
            let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
            Self::from_sdk_config(base, cfg)
        }
        .boxed()
    }

    pub fn from_sdk_config(base: SdkConfig, cfg: &Config) -> Self {
        // Standard retry: exponential backoff with jitter on throttling
        // (API Gateway's 429 TooManyRequestsException, Security Hub's
        // ThrottlingException), 5xx and timeouts.
        let retry = RetryConfig::standard()
            .with_max_attempts(cfg.limits.max_attempts)
            .with_initial_backoff(cfg.limits.retry_base)
            .with_max_backoff(Duration::from_secs(20));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(cfg.limits.attempt_timeout)
            .build();
        // One HTTP client (one connection pool) for every SDK client of the
        // run; the SDK would otherwise build one per client. It is also what
        // the per account-region pacing wraps.
        let http = base.http_client().unwrap_or_else(default_http_client);
        let base = base
            .into_builder()
            .retry_config(retry)
            .timeout_config(timeouts)
            .http_client(http)
            .build();
        Self {
            base,
            stats: RequestStats::default(),
            identity: Arc::default(),
        }
    }

    /// The same configuration with its own request counts (one per run, so
    /// a warm Lambda's counts do not add up across invocations).
    pub fn with_fresh_stats(&self) -> Self {
        Self {
            base: self.base.clone(),
            stats: RequestStats::default(),
            identity: self.identity.clone(),
        }
    }

    pub fn home_region(&self) -> Option<String> {
        self.base.region().map(|r| r.to_string())
    }

    pub fn session(&self, account: AccountId, sdk: SdkConfig) -> AccountSession {
        AccountSession {
            account,
            sdk,
            stats: self.stats.clone(),
        }
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.base)
            .interceptor(CountRequests(self.stats.clone()))
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        let conf = aws_sdk_sqs::config::Builder::from(&self.base)
            .interceptor(CountRequests(self.stats.clone()))
            .build();
        aws_sdk_sqs::Client::from_conf(conf)
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.base)
            .interceptor(CountRequests(self.stats.clone()))
            .build();
        aws_sdk_organizations::Client::from_conf(conf)
    }
}

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, proxy
/// settings from the environment), built once.
fn default_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

/// Credentials for one account (its own, or an assumed role's), from which
/// per-region clients are made.
#[derive(Debug, Clone)]
pub struct AccountSession {
    pub account: AccountId,
    sdk: SdkConfig,
    stats: RequestStats,
}

impl AccountSession {
    /// This account's configuration in `region`, every request paced by
    /// `pacer` for this account-region.
    fn paced(&self, region: crate::model::Region, pacer: &Pacer) -> SdkConfig {
        let http = self
            .sdk
            .http_client()
            .expect("AwsEnv always sets the HTTP client");
        self.sdk
            .to_builder()
            .region(Region::new(region.as_str()))
            .http_client(PacedHttpClient::new(
                http,
                pacer.clone(),
                AccountRegion::new(self.account.clone(), region),
            ))
            .build()
    }

    pub fn apigateway(
        &self,
        region: crate::model::Region,
        pacer: &Pacer,
    ) -> aws_sdk_apigateway::Client {
        let conf = aws_sdk_apigateway::config::Builder::from(&self.paced(region, pacer))
            .interceptor(CountRequests(self.stats.clone()))
            .build();
        aws_sdk_apigateway::Client::from_conf(conf)
    }

    /// An API Gateway client for the trace path's GetResources walk: paced
    /// by that operation's own quota (`walk`) and, under it, by the
    /// control plane's (`apigw`).
    pub fn apigateway_walk(
        &self,
        region: crate::model::Region,
        apigw: &Pacer,
        walk: &Pacer,
    ) -> aws_sdk_apigateway::Client {
        let at = AccountRegion::new(self.account.clone(), region);
        let inner = self.paced(region, apigw);
        let http = inner.http_client().expect("paced sets the HTTP client");
        let sdk = inner
            .to_builder()
            .http_client(PacedHttpClient::new(http, walk.clone(), at))
            .build();
        let conf = aws_sdk_apigateway::config::Builder::from(&sdk)
            .interceptor(CountRequests(self.stats.clone()))
            .build();
        aws_sdk_apigateway::Client::from_conf(conf)
    }

    pub fn lambda(&self, region: crate::model::Region, pacer: &Pacer) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::config::Builder::from(&self.paced(region, pacer))
            .interceptor(CountRequests(self.stats.clone()))
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    pub fn cloudwatch(
        &self,
        region: crate::model::Region,
        pacer: &Pacer,
    ) -> aws_sdk_cloudwatch::Client {
        let conf = aws_sdk_cloudwatch::config::Builder::from(&self.paced(region, pacer))
            .interceptor(CountRequests(self.stats.clone()))
            .build();
        aws_sdk_cloudwatch::Client::from_conf(conf)
    }

    pub fn xray(&self, region: crate::model::Region, pacer: &Pacer) -> aws_sdk_xray::Client {
        let conf = aws_sdk_xray::config::Builder::from(&self.paced(region, pacer))
            .interceptor(CountRequests(self.stats.clone()))
            .build();
        aws_sdk_xray::Client::from_conf(conf)
    }

    pub fn securityhub(
        &self,
        region: crate::model::Region,
        pacer: &Pacer,
    ) -> aws_sdk_securityhub::Client {
        let conf = aws_sdk_securityhub::config::Builder::from(&self.paced(region, pacer))
            .interceptor(CountRequests(self.stats.clone()))
            .build();
        aws_sdk_securityhub::Client::from_conf(conf)
    }
}
