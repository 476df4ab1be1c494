//! Cost estimates for stages about to be traced (`remediate`, `scan --cost
//! on`, the custom action): per account-region the sampling rules, the
//! trace destination and the stages' traffic are read once through the
//! scan role; each stage is then judged by the rule crate (`cost`, with the
//! sampling judge's deciding rule).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::warn;

use crate::aws::pacing::Pacers;
use crate::aws::{cost as read, sampling, AccountSession};
use crate::cost::{after_free_tier, estimate, Destination, Estimate, Prices, Total, Traffic};
use crate::model::{AccountId, AccountRegion, StageRecord, StageRef};
use crate::report::{chain, ErrorEntry};
use crate::sampling::{judge, Recording, SamplingRule, Target};

/// CloudWatch series (`ApiName`, `Stage`) -> the REST APIs that emit it:
/// more than one is a shared series no estimate can split.
pub type Series = BTreeMap<(String, String), BTreeSet<String>>;

/// The series of an account-region's inventory.
pub fn series_of(stages: &[StageRecord]) -> Series {
    let mut out = Series::new();
    for s in stages {
        if let Some(name) = &s.api_name {
            out.entry((name.clone(), s.place.stage.clone()))
                .or_default()
                .insert(s.place.api_id.clone());
        }
    }
    out
}

/// What an estimate of one account-region is made from, besides the
/// stages: the traffic series, the sampling rules when the caller has read
/// them already (the scan's sampling verdicts: not asked for twice), the
/// prices and the time.
pub struct Inputs<'a> {
    pub series: &'a Series,
    pub rules: Option<&'a [SamplingRule]>,
    pub prices: &'a Prices,
    pub now: DateTime<Utc>,
}

/// Estimates for `targets` (stages of `at`) once traced. Reads fail soft:
/// an unreadable part is a warning and a note on each estimate.
pub async fn estimate_region(
    session: &AccountSession,
    pacers: &Pacers,
    at: &AccountRegion,
    targets: &[&StageRecord],
    inputs: Inputs<'_>,
) -> (BTreeMap<StageRef, Estimate>, Vec<ErrorEntry>) {
    let Inputs {
        series,
        rules: known,
        prices,
        now,
    } = inputs;
    let mut out = BTreeMap::new();
    let mut warnings = Vec::new();
    if targets.is_empty() {
        return (out, warnings);
    }
    let mut region_notes = Vec::new();
    let xray = session.xray(at.region, &pacers.xray);
    let read = match known {
        Some(rules) => Ok(rules.to_vec()),
        None => sampling::rules(&xray, at).await,
    };
    let rules: Vec<SamplingRule> = match read {
        Ok(rules) => rules,
        Err(e) => {
            warn!(error = %chain(&e), "sampling rules not read; the Default rule is assumed");
            region_notes.push("sampling rules unreadable: AWS's Default rule assumed".to_owned());
            warnings.push(ErrorEntry::from(&e));
            Vec::new()
        }
    };
    let destination = match read::destination(&xray, at).await {
        Ok(d) => d,
        Err(e) => {
            warn!(error = %chain(&e), "trace destination not read; X-Ray assumed");
            region_notes.push("trace destination unreadable: X-Ray assumed".to_owned());
            warnings.push(ErrorEntry::from(&e));
            Destination::XRay
        }
    };
    let wanted: Vec<(String, String)> = targets
        .iter()
        .filter_map(|s| {
            let key = (s.api_name.clone()?, s.place.stage.clone());
            (series.get(&key).map_or(1, BTreeSet::len) == 1).then_some(key)
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let cw = session.cloudwatch(at.region, &pacers.cloudwatch);
    let read = match read::traffic(&cw, at, &wanted, now).await {
        Ok(t) => Ok(t),
        Err(e) => {
            warn!(error = %chain(&e), "traffic not read; estimates have no numbers");
            warnings.push(ErrorEntry::from(&e));
            Err(chain(&e))
        }
    };
    for s in targets {
        let mut notes = region_notes.clone();
        let traffic = match (&s.api_name, &read) {
            (None, _) => Traffic::Unknown("the API's name is not known".into()),
            (_, Err(why)) => Traffic::Unknown(why.clone()),
            (Some(name), Ok(read)) => {
                let key = (name.clone(), s.place.stage.clone());
                match series.get(&key).map_or(1, BTreeSet::len) {
                    n if n > 1 => Traffic::Shared { apis: n },
                    _ => read.get(&key).cloned().unwrap_or(Traffic::NoTraffic),
                }
            }
        };
        let p = &s.place;
        let target = Target {
            api_name: s.api_name.as_deref(),
            stage: Some(&p.stage),
            api_id: Some(&p.api_id),
            account: Some(p.account.as_str()),
            region: Some(p.region.as_str()),
            partition: Some(p.partition().as_str()),
        };
        let rule = match judge(&target, &rules).decided {
            Some(d) => {
                let front: Vec<&str> = d
                    .in_front
                    .iter()
                    .filter(|(_, r)| *r != Recording::Nothing)
                    .map(|(r, _)| r.name.as_str())
                    .collect();
                if !front.is_empty() {
                    notes.push(format!(
                        "conditional rule(s) {} in front of '{}' also record some requests: not in the estimate",
                        front.join(", "),
                        d.rule.name
                    ));
                }
                d.rule
            }
            None => {
                notes.push(
                    "the deciding sampling rule is not known: AWS's Default rule assumed".into(),
                );
                SamplingRule::aws_default()
            }
        };
        out.insert(
            p.clone(),
            estimate(&traffic, &rule, destination, prices, notes),
        );
    }
    (out, warnings)
}

/// The estimates' totals: per account before the free tier, and overall
/// with the free tier taken off once (`estimate_totals` in the report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateTotals {
    pub accounts: BTreeMap<AccountId, Total>,
    pub overall: Total,
    pub price_per_million_traces: f64,
    pub free_traces_per_month: f64,
    pub note: &'static str,
}

const TOTALS_NOTE: &str = "per-account totals are before X-Ray's free tier; an organization on consolidated billing shares one free tier, applied once, to the overall total";

pub fn totals<'a>(
    estimates: impl Iterator<Item = (&'a AccountId, &'a Estimate)>,
    prices: &Prices,
) -> EstimateTotals {
    let mut accounts: BTreeMap<AccountId, Total> = BTreeMap::new();
    let mut overall = Total::default();
    for (account, e) in estimates {
        accounts.entry(account.clone()).or_default().add(e);
        overall.add(e);
    }
    overall.usd_per_month = after_free_tier(&overall, prices);
    EstimateTotals {
        accounts,
        overall,
        price_per_million_traces: prices.per_million,
        free_traces_per_month: prices.free_per_month,
        note: TOTALS_NOTE,
    }
}

/// Most GetRestApis pages read for names (500 per page; the quota is 600
/// REST APIs per region).
const MAX_NAME_PAGES: usize = 100;

/// API id -> name of every REST API of the account-region (GetRestApis),
/// for stages read one at a time (the custom action): their names, and
/// which APIs may share their series.
pub async fn api_names(
    apigw: &aws_sdk_apigateway::Client,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut pages = apigw.get_rest_apis().limit(500).into_paginator().send();
    for _ in 0..MAX_NAME_PAGES {
        match pages.next().await {
            None => return Ok(out),
            Some(Ok(page)) => out.extend(
                page.items()
                    .iter()
                    .filter_map(|a| Some((a.id()?.to_owned(), a.name()?.to_owned()))),
            ),
            Some(Err(e)) => return Err(chain(&aws_sdk_apigateway::Error::from(e))),
        }
    }
    Err(format!(
        "GetRestApis did not stop paging after {MAX_NAME_PAGES} pages"
    ))
}

/// Stages read one at a time, named from `names`, and the series each may
/// share: every API of the same name (CloudWatch keys by name).
pub fn named(stages: &mut [StageRecord], names: &BTreeMap<String, String>) -> Series {
    let mut out = Series::new();
    for s in stages.iter_mut() {
        s.api_name = names.get(&s.place.api_id).cloned();
        if let Some(name) = &s.api_name {
            let same: BTreeSet<String> = names
                .iter()
                .filter(|(_, n)| *n == name)
                .map(|(id, _)| id.clone())
                .collect();
            out.insert((name.clone(), s.place.stage.clone()), same);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_tracing_rule::testing::stage;

    fn named_stage(api: &str, name: &str, stage_name: &str) -> StageRecord {
        StageRecord {
            api_name: Some(name.into()),
            ..stage(api, stage_name, false)
        }
    }

    #[test]
    fn a_series_two_apis_share_is_known_and_names_come_from_the_listing() {
        let stages = [
            named_stage("a1", "twin", "prod"),
            named_stage("a2", "twin", "prod"),
            named_stage("a2", "twin", "dev"),
            named_stage("b1", "shop", "prod"),
        ];
        let series = series_of(&stages);
        assert_eq!(series[&("twin".into(), "prod".into())].len(), 2);
        assert_eq!(series[&("twin".into(), "dev".into())].len(), 1);
        assert_eq!(series[&("shop".into(), "prod".into())].len(), 1);
        // Read one at a time (the custom action): every same-named API may
        // share the series.
        let mut read = [stage("a1", "dev", false)];
        let names = BTreeMap::from([
            ("a1".to_owned(), "twin".to_owned()),
            ("a2".to_owned(), "twin".to_owned()),
            ("b1".to_owned(), "shop".to_owned()),
        ]);
        let series = named(&mut read, &names);
        assert_eq!(read[0].api_name.as_deref(), Some("twin"));
        assert_eq!(series[&("twin".into(), "dev".into())].len(), 2);
    }
}
