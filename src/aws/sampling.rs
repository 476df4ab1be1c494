//! X-Ray's sampling rules and their recent statistics for one
//! account-region, read through the scan role (read-only), converted to the
//! rule crate's types.

use std::collections::BTreeMap;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::instrument;

use crate::model::AccountRegion;
use crate::report::{chain, ErrorEntry, ErrorKind};
use crate::sampling::{Boost, RuleStats, SamplingRule};

/// Pages read before a paging loop is called runaway. GetSamplingRules has
/// no page size; an account holds at most 25 rules besides Default (X-Ray's
/// quota), a page or two. The statistics come one summary per rule.
pub const MAX_PAGES: usize = 20;

/// Why an account-region's sampling rules could not be read: its traced
/// stages' sampling verdicts are UNKNOWN, their findings left as they are.
#[derive(Debug, thiserror::Error)]
pub enum SamplingReadError {
    #[error("{at}: xray:{operation} failed; sampling verdicts are UNKNOWN here this run")]
    Call {
        at: AccountRegion,
        operation: &'static str,
        #[source]
        source: aws_sdk_xray::Error,
    },
    #[error("{at}: xray:{operation} did not stop paging after {MAX_PAGES} pages; sampling verdicts are UNKNOWN here this run")]
    Paging {
        at: AccountRegion,
        operation: &'static str,
    },
}

impl SamplingReadError {
    fn at(&self) -> &AccountRegion {
        match self {
            SamplingReadError::Call { at, .. } | SamplingReadError::Paging { at, .. } => at,
        }
    }
}

impl From<&SamplingReadError> for ErrorEntry {
    fn from(e: &SamplingReadError) -> Self {
        let code = match e {
            SamplingReadError::Call { source, .. } => source.code().map(str::to_owned),
            SamplingReadError::Paging { .. } => None,
        };
        Self {
            code,
            ..Self::at(ErrorKind::SamplingUnreadable, e.at(), chain(e))
        }
    }
}

fn call_error<E, R>(
    at: &AccountRegion,
    operation: &'static str,
    e: aws_sdk_xray::error::SdkError<E, R>,
) -> SamplingReadError
where
    aws_sdk_xray::Error: From<aws_sdk_xray::error::SdkError<E, R>>,
{
    SamplingReadError::Call {
        at: at.clone(),
        operation,
        source: e.into(),
    }
}

/// Every sampling rule of the account-region (`GetSamplingRules`, paged).
#[instrument(skip_all, fields(account = %at.account, region = %at.region))]
pub async fn rules(
    xray: &aws_sdk_xray::Client,
    at: &AccountRegion,
) -> Result<Vec<SamplingRule>, SamplingReadError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = xray
            .get_sampling_rules()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| call_error(at, "GetSamplingRules", e))?;
        out.extend(
            page.sampling_rule_records()
                .iter()
                .filter_map(|r| r.sampling_rule())
                .map(convert),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(out),
        }
    }
    Err(SamplingReadError::Paging {
        at: at.clone(),
        operation: "GetSamplingRules",
    })
}

/// Requests matched and sampled per rule in X-Ray's recent 10-second
/// windows (`GetSamplingStatisticSummaries`, paged), summed per rule.
#[instrument(skip_all, fields(account = %at.account, region = %at.region))]
pub async fn statistics(
    xray: &aws_sdk_xray::Client,
    at: &AccountRegion,
) -> Result<BTreeMap<String, RuleStats>, SamplingReadError> {
    let mut out: BTreeMap<String, RuleStats> = BTreeMap::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = xray
            .get_sampling_statistic_summaries()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| call_error(at, "GetSamplingStatisticSummaries", e))?;
        for s in page.sampling_statistic_summaries() {
            let Some(name) = s.rule_name() else { continue };
            let e = out.entry(name.to_owned()).or_default();
            e.requests = e.requests.saturating_add(i64::from(s.request_count()));
            e.sampled = e.sampled.saturating_add(i64::from(s.sampled_count()));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(out),
        }
    }
    Err(SamplingReadError::Paging {
        at: at.clone(),
        operation: "GetSamplingStatisticSummaries",
    })
}

fn convert(r: &aws_sdk_xray::types::SamplingRule) -> SamplingRule {
    SamplingRule {
        name: r.rule_name().unwrap_or_default().to_owned(),
        priority: Some(i64::from(r.priority())),
        reservoir: Some(f64::from(r.reservoir_size())),
        rate: Some(r.fixed_rate()),
        boost: match r.sampling_rate_boost() {
            Some(b) => Boost::MaxRate(b.max_rate()),
            None => Boost::None,
        },
        service_name: Some(r.service_name().to_owned()),
        service_type: Some(r.service_type().to_owned()),
        resource_arn: Some(r.resource_arn().to_owned()),
        host: Some(r.host().to_owned()),
        http_method: Some(r.http_method().to_owned()),
        url_path: Some(r.url_path().to_owned()),
        attributes: Some(r.attributes().map_or(0, |a| a.len())),
    }
}
