//! What a cost estimate reads of one account-region, through the scan
//! role (read-only): each stage's traffic (CloudWatch `AWS/ApiGateway`
//! `Count`, hourly sums over the window) and where traces go (X-Ray's
//! `GetTraceSegmentDestination`). Converted to the rule crate's types.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::instrument;

use crate::cost::{Destination, Traffic, WINDOW_DAYS};
use crate::model::AccountRegion;
use crate::report::{chain, ErrorEntry, ErrorKind};

/// GetMetricData takes at most 500 queries per call.
pub const MAX_QUERIES: usize = 500;
/// Pages read per batch before the loop is called runaway: a call returns
/// at most 100,800 data points, and 500 queries of 336 hourly points are
/// 168,000 (two pages).
pub const MAX_PAGES: usize = 20;
/// One data point per hour: the `Sum` of requests in it.
const PERIOD_SECS: i32 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum CostReadError {
    #[error("{at}: {operation} failed; estimates here have no {what}")]
    Call {
        at: AccountRegion,
        operation: &'static str,
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
        code: Option<String>,
    },
    #[error("{at}: cloudwatch:GetMetricData did not stop paging after {MAX_PAGES} pages; estimates here have no traffic")]
    Paging { at: AccountRegion },
}

impl From<&CostReadError> for ErrorEntry {
    fn from(e: &CostReadError) -> Self {
        let (at, code) = match e {
            CostReadError::Call { at, code, .. } => (at, code.clone()),
            CostReadError::Paging { at } => (at, None),
        };
        Self {
            code,
            ..Self::at(ErrorKind::EstimateUnreadable, at, chain(e))
        }
    }
}

/// Where this account-region's traces go. Refused or not served: the
/// caller assumes X-Ray and says so.
#[instrument(skip_all, fields(account = %at.account, region = %at.region))]
pub async fn destination(
    xray: &aws_sdk_xray::Client,
    at: &AccountRegion,
) -> Result<Destination, CostReadError> {
    let out = xray
        .get_trace_segment_destination()
        .send()
        .await
        .map_err(|e| {
            let e: aws_sdk_xray::Error = e.into();
            CostReadError::Call {
                at: at.clone(),
                operation: "xray:GetTraceSegmentDestination",
                what: "known trace destination (X-Ray assumed)",
                code: e.code().map(str::to_owned),
                source: Box::new(e),
            }
        })?;
    Ok(match out.destination() {
        Some(aws_sdk_xray::types::TraceSegmentDestination::CloudWatchLogs) => {
            Destination::CloudWatchLogs
        }
        _ => Destination::XRay,
    })
}

/// The series `(api name, stage)`: requests counted over the window, or
/// no traffic. CloudWatch keys `Count` by API *name* and stage.
#[instrument(skip_all, fields(account = %at.account, region = %at.region, series = series.len()))]
pub async fn traffic(
    cw: &aws_sdk_cloudwatch::Client,
    at: &AccountRegion,
    series: &[(String, String)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<BTreeMap<(String, String), Traffic>, CostReadError> {
    let window = chrono::Duration::days(i64::from(WINDOW_DAYS));
    let start = aws_smithy_types::DateTime::from_secs((now - window).timestamp());
    let end = aws_smithy_types::DateTime::from_secs(now.timestamp());
    let seconds = window.num_seconds() as f64;
    let mut out = BTreeMap::new();
    for (batch_no, batch) in series.chunks(MAX_QUERIES).enumerate() {
        let queries: Vec<MetricDataQuery> = batch
            .iter()
            .enumerate()
            .map(|(i, (api, stage))| {
                let metric = Metric::builder()
                    .namespace("AWS/ApiGateway")
                    .metric_name("Count")
                    .dimensions(Dimension::builder().name("ApiName").value(api).build())
                    .dimensions(Dimension::builder().name("Stage").value(stage).build())
                    .build();
                MetricDataQuery::builder()
                    .id(format!("q{batch_no}_{i}"))
                    .metric_stat(
                        MetricStat::builder()
                            .metric(metric)
                            .period(PERIOD_SECS)
                            .stat("Sum")
                            .build(),
                    )
                    .return_data(true)
                    .build()
            })
            .collect();
        let mut sums = vec![(0.0f64, 0usize); batch.len()];
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(CostReadError::Paging { at: at.clone() });
            }
            let page = cw
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(start)
                .end_time(end)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    let e: aws_sdk_cloudwatch::Error = e.into();
                    CostReadError::Call {
                        at: at.clone(),
                        operation: "cloudwatch:GetMetricData",
                        what: "traffic",
                        code: e.code().map(str::to_owned),
                        source: Box::new(e),
                    }
                })?;
            for r in page.metric_data_results() {
                let index = r
                    .id()
                    .and_then(|id| id.rsplit('_').next())
                    .and_then(|i| i.parse::<usize>().ok());
                if let Some(sum) = index.and_then(|i| sums.get_mut(i)) {
                    sum.0 += r.values().iter().sum::<f64>();
                    sum.1 += r.values().len();
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        for (key, (requests, points)) in batch.iter().zip(sums) {
            let t = match points {
                0 => Traffic::NoTraffic,
                _ => Traffic::Counted { requests, seconds },
            };
            out.insert(key.clone(), t);
        }
    }
    Ok(out)
}
