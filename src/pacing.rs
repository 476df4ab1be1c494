//! Client-side pacing, per service, account and region (GCRA via
//! `governor`). One `Pacer` per service is shared by every task of a run,
//! so the rate towards one account-region holds whatever the concurrency.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::model::AccountId;

type Key = (AccountId, String);

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

    /// Waits until one more request to `account` in `region` fits the rate.
    pub async fn ready(&self, account: &AccountId, region: &str) {
        self.limiter
            .until_key_ready(&(account.clone(), region.to_owned()))
            .await;
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
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn holds_the_rate_per_key_and_keys_do_not_share() {
        let pacer = Pacer::per_second(NonZeroU32::new(20).unwrap());
        let a = AccountId::parse("111111111111").unwrap();
        let b = AccountId::parse("222222222222").unwrap();
        let start = Instant::now();
        for _ in 0..11 {
            pacer.ready(&a, "eu-west-1").await;
        }
        // 11 requests at 20/s with no burst: the 11th waits 10 x 50 ms.
        let paced = start.elapsed();
        assert!(paced >= Duration::from_millis(480), "{paced:?}");
        let other = Instant::now();
        pacer.ready(&b, "eu-west-1").await;
        pacer.ready(&a, "us-east-1").await;
        assert!(other.elapsed() < Duration::from_millis(40));
    }
}
