//! Client-side pacing, per service, account and region (GCRA via
//! `governor`). One `Pacer` per service is shared by every task of a run,
//! and it sits in the HTTP client of every SDK client it governs, so the
//! rate towards one account-region holds whatever the concurrency, retries
//! included.

use std::num::NonZeroU32;
use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::model::AccountRegion;

type Key = AccountRegion;

#[derive(Clone)]
pub struct Pacer {
    limiter: Arc<DefaultKeyedRateLimiter<Key>>,
}

impl Pacer {
    /// At most `per_second` requests per second to one account-region, with
    /// no burst: requests are spread evenly, so any one-second window holds
    /// at most `per_second` of them.
    pub fn per_second(per_second: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// At most one request every `period` to one account-region, no burst.
    pub fn every(period: std::time::Duration) -> Self {
        let quota = Quota::with_period(period)
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// Drops the state of every account-region whose rate budget is back to
    /// full: they are indistinguishable from never seen. Keeps the limiter
    /// from growing with the number of accounts in a long run.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Number of account-regions the limiter holds state for.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.limiter.len()
    }

    /// Whether one more request to `at` fits the rate now (and counts it).
    #[cfg(test)]
    fn admits(&self, at: &AccountRegion) -> bool {
        self.limiter.check_key(at).is_ok()
    }

    /// How long one more request to `at` would wait, if it must.
    #[cfg(test)]
    fn wait_for(&self, at: &AccountRegion) -> Option<std::time::Duration> {
        use governor::clock::{Clock, DefaultClock};
        let now = DefaultClock::default().now();
        self.limiter
            .check_key(at)
            .err()
            .map(|not_until| not_until.wait_time_from(now))
    }
}

/// Security Hub's GetFindings quota: 3 requests/s (burst 6) per account-region.
const GET_FINDINGS_RPS: NonZeroU32 = NonZeroU32::new(3).unwrap();

/// API Gateway's GetResources quota: 5 requests every 2 seconds per
/// account (and region), on top of the 10/s of all its control-plane calls:
/// one every 400 ms, spread evenly.
pub const GET_RESOURCES_PERIOD: std::time::Duration = std::time::Duration::from_millis(400);
/// Lambda's GetFunctionConfiguration allows 15 requests/s per account and
/// region; 10 leaves room for the account's own tooling.
const LAMBDA_CONFIG_RPS: NonZeroU32 = NonZeroU32::new(10).unwrap();
/// X-Ray publishes no quota for GetSamplingRules or
/// GetSamplingStatisticSummaries (its quotas page lists trace and segment
/// limits only). Every X-Ray SDK and daemon polls GetSamplingRules every
/// 5 minutes per process; 2 requests/s from the scan is well inside what an
/// account's own fleet already sends.
const XRAY_RPS: NonZeroU32 = NonZeroU32::new(2).unwrap();
/// CloudWatch's GetMetricData allows 50 requests/s per account and region;
/// 10 leaves the rest to the account's dashboards and alarms.
const GET_METRIC_DATA_RPS: NonZeroU32 = NonZeroU32::new(10).unwrap();

/// The pacers of one run, one per quota. Reads and writes of a run share
/// them: they count against the same per account-region quotas.
#[derive(Debug)]
pub struct Pacers {
    /// API Gateway's control plane (10/s per account and region, shared
    /// with the account's own deployments).
    pub apigw: Pacer,
    /// Security Hub writes (BatchImportFindings).
    pub securityhub: Pacer,
    /// Security Hub's GetFindings: never above its own 3/s.
    pub getfindings: Pacer,
    /// API Gateway's GetResources (the trace path's walk): its own quota,
    /// shared by every walk of the run in that account-region.
    pub getresources: Pacer,
    /// Lambda's GetFunctionConfiguration / UpdateFunctionConfiguration.
    pub lambda: Pacer,
    /// X-Ray's sampling reads (no published quota; see `XRAY_RPS`).
    pub xray: Pacer,
    /// CloudWatch's GetMetricData (cost estimates).
    pub cloudwatch: Pacer,
}

impl Pacers {
    pub fn new(apigw_rps: NonZeroU32, securityhub_rps: NonZeroU32) -> Self {
        Self {
            apigw: Pacer::per_second(apigw_rps),
            securityhub: Pacer::per_second(securityhub_rps),
            getfindings: Pacer::per_second(securityhub_rps.min(GET_FINDINGS_RPS)),
            getresources: Pacer::every(GET_RESOURCES_PERIOD),
            lambda: Pacer::per_second(LAMBDA_CONFIG_RPS),
            xray: Pacer::per_second(XRAY_RPS),
            cloudwatch: Pacer::per_second(GET_METRIC_DATA_RPS),
        }
    }

    /// Drops the state of every idle account-region (see `Pacer::forget_idle`).
    pub fn forget_idle(&self) {
        for pacer in [
            &self.apigw,
            &self.securityhub,
            &self.getfindings,
            &self.getresources,
            &self.lambda,
            &self.xray,
            &self.cloudwatch,
        ] {
            pacer.forget_idle();
        }
    }
}

/// An HTTP client that waits for `pacer` before every request it sends:
/// every attempt, SDK retries of throttled calls included, counts against
/// the rate of its account-region.
#[derive(Debug, Clone)]
pub struct PacedHttpClient {
    inner: SharedHttpClient,
    pacer: Pacer,
    key: Key,
}

impl PacedHttpClient {
    pub fn new(inner: SharedHttpClient, pacer: Pacer, at: AccountRegion) -> Self {
        Self {
            inner,
            pacer,
            key: at,
        }
    }
}

impl HttpClient for PacedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pacer: self.pacer.clone(),
            key: self.key.clone(),
        })
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Pacer,
    key: Key,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, pacer, key) = (self.inner.clone(), self.pacer.clone(), self.key.clone());
        HttpConnectorFuture::new(async move {
            pacer.limiter.until_key_ready(&key).await;
            inner.call(request).await
        })
    }
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pacer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The rate is read from the limiter's answers, not by waiting: the
    /// test takes no time whatever the machine.
    #[test]
    fn holds_the_rate_per_key_and_keys_do_not_share() {
        let pacer = Pacer::per_second(NonZeroU32::new(20).unwrap());
        let at = |account: &str, region: &str| {
            AccountRegion::new(
                crate::model::AccountId::parse(account).unwrap(),
                crate::model::Region::parse(region).unwrap(),
            )
        };
        let a = at("111111111111", "eu-west-1");
        assert!(pacer.admits(&a), "the first request goes at once");
        // No burst: the next one to the same account-region waits about
        // one interval (50 ms at 20/s).
        let wait = pacer.wait_for(&a).expect("must wait");
        assert!(
            wait > Duration::from_millis(30) && wait <= Duration::from_millis(50),
            "{wait:?}"
        );
        // Other account-regions have their own budget.
        assert!(pacer.admits(&at("222222222222", "eu-west-1")));
        assert!(pacer.admits(&at("111111111111", "us-east-1")));
        assert_eq!(pacer.tracked(), 3);
    }

    /// GetResources: 5 every 2 s, so a sixth request within 2 s of the
    /// first must wait; requests are 400 ms apart.
    #[test]
    fn get_resources_holds_five_every_two_seconds() {
        let pacers = Pacers::new(NonZeroU32::new(5).unwrap(), NonZeroU32::new(5).unwrap());
        let a = AccountRegion::new(
            crate::model::AccountId::parse("111111111111").unwrap(),
            crate::model::Region::parse("eu-west-1").unwrap(),
        );
        assert!(pacers.getresources.admits(&a));
        let wait = pacers.getresources.wait_for(&a).expect("must wait");
        assert!(
            wait > Duration::from_millis(350) && wait <= GET_RESOURCES_PERIOD,
            "{wait:?}"
        );
        // The walk's pacer is its own: the general API Gateway budget of the
        // same account-region is untouched.
        assert!(pacers.apigw.admits(&a));
    }

    #[test]
    fn idle_account_regions_are_forgotten() {
        let pacer = Pacer::per_second(NonZeroU32::new(1000).unwrap());
        let a = AccountRegion::new(
            crate::model::AccountId::parse("111111111111").unwrap(),
            crate::model::Region::parse("eu-west-1").unwrap(),
        );
        assert!(pacer.admits(&a));
        assert_eq!(pacer.tracked(), 1);
        // One interval at 1,000/s is 1 ms: idle after that.
        std::thread::sleep(Duration::from_millis(5));
        pacer.forget_idle();
        assert_eq!(pacer.tracked(), 0);
    }
}
