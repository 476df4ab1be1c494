//! What tracing a stage would cost: its traffic times the sampling rule
//! that would decide for it, priced per trace recorded. Pure: the adapters
//! read the traffic (CloudWatch `AWS/ApiGateway` `Count`), the rules and the
//! trace destination; the arithmetic and its notes are here.
//!
//! X-Ray records, per second, the reservoir `R` first and then a share `f`
//! of the rest. The reservoir is shared by every service the rule matches,
//! so a stage gets somewhere between none of it and all of it: traces per
//! second lie between `f·λ` and `min(λ, R) + f·max(0, λ − R)`.

use serde::Serialize;

use crate::sampling::SamplingRule;

/// The month the estimates are per: 30 days.
pub const SECONDS_PER_MONTH: f64 = 2_592_000.0;
/// X-Ray's price for traces recorded, USD per million.
pub const DEFAULT_PRICE_PER_MILLION: f64 = 5.0;
/// X-Ray's free tier of traces recorded per month (per payer account).
pub const DEFAULT_FREE_TRACES: f64 = 100_000.0;
/// The traffic window read: 14 days of hourly sums.
pub const WINDOW_DAYS: u32 = 14;

/// Where an account-region's spans go (`GetTraceSegmentDestination`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Destination {
    /// Billed per trace recorded.
    XRay,
    /// Transaction Search: billed as CloudWatch Logs ingestion, not per trace.
    CloudWatchLogs,
}

/// A stage's traffic over the window, as CloudWatch gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Traffic {
    /// Requests counted over `seconds` (the window).
    Counted { requests: f64, seconds: f64 },
    /// No data point in the window: 0 requests.
    NoTraffic,
    /// CloudWatch keys the metric by API name, and `apis` REST APIs of the
    /// account-region share this stage's: the series is theirs together.
    Shared { apis: usize },
    /// Not read, and why.
    Unknown(String),
}

/// The price of traces recorded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prices {
    pub per_million: f64,
    pub free_per_month: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            per_million: DEFAULT_PRICE_PER_MILLION,
            free_per_month: DEFAULT_FREE_TRACES,
        }
    }
}

/// A low and a high bound.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Bounds {
    pub low: f64,
    pub high: f64,
}

impl Bounds {
    fn scale(self, k: f64) -> Self {
        Self {
            low: self.low * k,
            high: self.high * k,
        }
    }

    fn add(self, o: Bounds) -> Self {
        Self {
            low: self.low + o.low,
            high: self.high + o.high,
        }
    }

    /// `low-high` with `digits` decimals (ProductFields, tables).
    pub fn shown(&self, digits: usize) -> String {
        format!("{:.digits$}-{:.digits$}", self.low, self.high)
    }
}

/// Traces per second under reservoir `r` (per second) and rate `f` at
/// `lambda` requests per second.
pub fn traces_per_second(lambda: f64, r: f64, f: f64) -> Bounds {
    let lambda = lambda.max(0.0);
    let (r, f) = (r.max(0.0), f.clamp(0.0, 1.0));
    Bounds {
        low: f * lambda,
        high: lambda.min(r) + f * (lambda - r).max(0.0),
    }
}

/// One stage's estimate (`remediate --format json`'s `estimate`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// `None` when the traffic is unknown or shared.
    pub requests_per_month: Option<f64>,
    pub traces_per_month: Option<Bounds>,
    /// `None` when the traces are not billed per trace (Transaction
    /// Search), or not known.
    pub usd_per_month: Option<Bounds>,
    pub rule: String,
    pub reservoir: f64,
    pub rate: f64,
    pub destination: Destination,
    pub window_days: u32,
    pub notes: Vec<String>,
}

impl Estimate {
    /// `traces low-high/month, USD low-high/month` for a finding or log.
    pub fn summary(&self) -> String {
        let traces = self
            .traces_per_month
            .map_or("unknown".into(), |t| t.shown(0));
        let usd = self.usd_per_month.map_or("n/a".into(), |u| u.shown(2));
        format!("{traces} traces/month, USD {usd}/month before the free tier")
    }
}

/// The estimate for a stage under `rule` (the rule that would decide for it
/// once traced), read `traffic`, the account-region's `destination`.
pub fn estimate(
    traffic: &Traffic,
    rule: &SamplingRule,
    destination: Destination,
    prices: &Prices,
    mut notes: Vec<String>,
) -> Estimate {
    let reservoir = rule.reservoir.unwrap_or(0.0);
    let rate = rule.rate.unwrap_or(0.0);
    let lambda = match traffic {
        Traffic::Counted { requests, seconds } if *seconds > 0.0 => Some(requests / seconds),
        Traffic::Counted { .. } | Traffic::NoTraffic => {
            notes.push("no_traffic: no request counted in the window".into());
            Some(0.0)
        }
        Traffic::Shared { apis } => {
            notes.push(format!(
                "ambiguous: {apis} REST APIs of this account-region share this API's name, and CloudWatch counts requests by name (a shared series); not attributed"
            ));
            None
        }
        Traffic::Unknown(why) => {
            notes.push(format!("traffic unknown: {why}"));
            None
        }
    };
    let traces = lambda.map(|l| traces_per_second(l, reservoir, rate).scale(SECONDS_PER_MONTH));
    let usd = match destination {
        Destination::XRay => traces.map(|t| t.scale(prices.per_million / 1_000_000.0)),
        Destination::CloudWatchLogs => {
            notes.push(
                "Transaction Search is on: spans are billed as CloudWatch Logs ingestion, not per trace"
                    .into(),
            );
            None
        }
    };
    Estimate {
        requests_per_month: lambda.map(|l| l * SECONDS_PER_MONTH),
        traces_per_month: traces,
        usd_per_month: usd,
        rule: rule.name.clone(),
        reservoir,
        rate,
        destination,
        window_days: WINDOW_DAYS,
        notes,
    }
}

/// Totals of one account (before the free tier) or of everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Total {
    pub stages: usize,
    pub traces_per_month: Bounds,
    /// Before the free tier for an account; after it, once, for overall.
    pub usd_per_month: Bounds,
}

impl Total {
    /// Adds a stage's estimate; stages without a number are counted, not
    /// summed (their notes say why).
    pub fn add(&mut self, e: &Estimate) {
        self.stages += 1;
        if let Some(t) = e.traces_per_month {
            if e.destination == Destination::XRay {
                self.traces_per_month = self.traces_per_month.add(t);
            }
        }
        if let Some(u) = e.usd_per_month {
            self.usd_per_month = self.usd_per_month.add(u);
        }
    }
}

/// The overall USD once the free tier is taken off the overall traces: an
/// organization on consolidated billing shares one free tier.
pub fn after_free_tier(overall: &Total, prices: &Prices) -> Bounds {
    let billed = |traces: f64| (traces - prices.free_per_month).max(0.0);
    Bounds {
        low: billed(overall.traces_per_month.low),
        high: billed(overall.traces_per_month.high),
    }
    .scale(prices.per_million / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(r: f64, f: f64) -> SamplingRule {
        SamplingRule {
            reservoir: Some(r),
            rate: Some(f),
            ..SamplingRule::aws_default()
        }
    }

    #[test]
    fn the_bounds_at_the_edges() {
        // λ below the reservoir: the high bound records every request.
        assert_eq!(
            traces_per_second(0.5, 1.0, 0.05),
            Bounds {
                low: 0.025,
                high: 0.5
            }
        );
        // λ zero: nothing.
        assert_eq!(traces_per_second(0.0, 1.0, 0.05), Bounds::default());
        // R zero: both bounds are the rate's share.
        assert_eq!(
            traces_per_second(10.0, 0.0, 0.1),
            Bounds {
                low: 1.0,
                high: 1.0
            }
        );
        // λ above R: the reservoir, then the rate on the rest.
        let b = traces_per_second(21.0, 1.0, 0.05);
        assert!(
            (b.high - 2.0).abs() < 1e-12 && (b.low - 1.05).abs() < 1e-12,
            "{b:?}"
        );
    }

    #[test]
    fn one_request_a_second_under_the_default_rule() {
        let t = Traffic::Counted {
            requests: 1_209_600.0,
            seconds: 1_209_600.0,
        };
        let e = estimate(
            &t,
            &rule(1.0, 0.05),
            Destination::XRay,
            &Prices::default(),
            vec![],
        );
        assert_eq!(e.requests_per_month, Some(2_592_000.0));
        let traces = e.traces_per_month.unwrap();
        assert_eq!((traces.low, traces.high), (129_600.0, 2_592_000.0));
        let usd = e.usd_per_month.unwrap();
        assert!(
            (usd.low - 0.648).abs() < 1e-9 && (usd.high - 12.96).abs() < 1e-9,
            "{usd:?}"
        );
        assert_eq!(
            e.summary(),
            "129600-2592000 traces/month, USD 0.65-12.96/month before the free tier"
        );
    }

    #[test]
    fn no_traffic_shared_series_and_transaction_search_say_why() {
        let p = Prices::default();
        let none = estimate(
            &Traffic::NoTraffic,
            &rule(1.0, 0.05),
            Destination::XRay,
            &p,
            vec![],
        );
        assert_eq!(none.traces_per_month, Some(Bounds::default()));
        assert!(none.notes[0].starts_with("no_traffic"));
        let shared = estimate(
            &Traffic::Shared { apis: 2 },
            &rule(1.0, 0.05),
            Destination::XRay,
            &p,
            vec![],
        );
        assert_eq!(
            (shared.traces_per_month, shared.usd_per_month),
            (None, None)
        );
        assert!(shared.notes[0].starts_with("ambiguous"));
        let t = Traffic::Counted {
            requests: 3600.0,
            seconds: 3600.0,
        };
        let logs = estimate(
            &t,
            &rule(1.0, 0.05),
            Destination::CloudWatchLogs,
            &p,
            vec![],
        );
        assert!(logs.traces_per_month.is_some());
        assert_eq!(logs.usd_per_month, None);
    }

    #[test]
    fn the_free_tier_comes_off_the_overall_total_once() {
        let p = Prices::default();
        let t = Traffic::Counted {
            requests: 1.0,
            seconds: 25.92,
        };
        // 100,000 traces a month per stage at rate 1.
        let e = estimate(&t, &rule(0.0, 1.0), Destination::XRay, &p, vec![]);
        let mut overall = Total::default();
        overall.add(&e);
        overall.add(&e);
        assert!((overall.traces_per_month.high - 200_000.0).abs() < 1e-6);
        assert!(
            (overall.usd_per_month.high - 1.0).abs() < 1e-9,
            "before the free tier"
        );
        let after = after_free_tier(&overall, &p);
        assert!((after.high - 0.5).abs() < 1e-9, "{after:?}");
    }
}
