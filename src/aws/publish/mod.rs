//! Security Hub: BatchImportFindings with the owning account's credentials,
//! in the stage's region (with the default product ARN, only the finding's
//! own account may import it).

use std::ops::Range;
use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::{debug, instrument, warn};

use crate::asff::Finding;
use crate::model::AccountId;
use crate::report::{chain, ErrorEntry, ErrorKind};

mod convert;
pub use convert::{from_sdk, to_sdk};

/// BatchImportFindings accepts at most 100 findings per call.
pub const MAX_BATCH_FINDINGS: usize = 100;
/// ... and at most 6 MB per request (read as decimal, the safe side), with
/// room for the request envelope.
pub const MAX_BATCH_BYTES: usize = 6_000_000 - 64 * 1024;
/// Rounds of re-sending findings that came back with a retryable error.
const FAILED_FINDING_RETRIES: u32 = 3;

/// FailedFindings error codes worth sending again.
fn retryable(code: &str) -> bool {
    matches!(
        code,
        "InternalException"
            | "InternalFailure"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "Throttling"
            | "ThrottlingException"
            | "TooManyRequestsException"
            | "LimitExceededException"
    )
}

/// Codes that mean the account-region cannot take findings at all: Security
/// Hub not enabled, or the import not allowed for this account.
fn not_enabled(code: &str) -> bool {
    matches!(
        code,
        "InvalidAccess" | "InvalidAccessException" | "AccessDeniedException" | "AccessDenied"
    )
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("account {account} region {region}: Security Hub is not enabled here, or this account may not import findings ({code}); enable Security Hub in this account and region")]
    NotEnabled {
        account: AccountId,
        region: String,
        code: String,
        #[source]
        source: Option<aws_sdk_securityhub::Error>,
    },
    #[error("account {account} region {region}: securityhub:GetFindings failed; nothing imported or archived here this run")]
    GetFindings {
        account: AccountId,
        region: String,
        #[source]
        source: aws_sdk_securityhub::Error,
    },
    #[error("account {account} region {region}: securityhub:BatchImportFindings failed for {findings} findings")]
    Import {
        account: AccountId,
        region: String,
        findings: usize,
        #[source]
        source: aws_sdk_securityhub::Error,
    },
    #[error("account {account} region {region}: Security Hub rejected finding {finding_id}: {code}: {message}")]
    Rejected {
        account: AccountId,
        region: String,
        finding_id: String,
        code: String,
        message: String,
    },
}

impl PublishError {
    pub fn code(&self) -> Option<String> {
        match self {
            Self::NotEnabled { code, .. } | Self::Rejected { code, .. } => Some(code.clone()),
            Self::Import { source, .. } | Self::GetFindings { source, .. } => {
                source.code().map(str::to_owned)
            }
        }
    }

    pub fn finding_id(&self) -> Option<&str> {
        match self {
            Self::Rejected { finding_id, .. } => Some(finding_id),
            _ => None,
        }
    }
}

impl From<&PublishError> for ErrorEntry {
    fn from(e: &PublishError) -> Self {
        let (kind, account, region) = match e {
            PublishError::NotEnabled {
                account, region, ..
            } => (ErrorKind::SecurityHubNotEnabled, account, region),
            PublishError::Import {
                account, region, ..
            } => (ErrorKind::BatchImportFindings, account, region),
            PublishError::GetFindings {
                account, region, ..
            } => (ErrorKind::GetFindings, account, region),
            PublishError::Rejected {
                account, region, ..
            } => (ErrorKind::FindingRejected, account, region),
        };
        Self {
            finding_id: e.finding_id().map(str::to_owned),
            code: e.code(),
            ..Self::new(kind, account.as_str(), Some(region), chain(e))
        }
    }
}

#[derive(Debug, Default)]
pub struct PublishOutcome {
    pub imported: usize,
    pub not_imported: usize,
    pub errors: Vec<PublishError>,
}

/// A failed Security Hub call: `NotEnabled` when the account-region cannot
/// take findings at all, otherwise what `other` makes of the error.
fn call_failed(
    source: aws_sdk_securityhub::Error,
    account: &AccountId,
    region: &str,
    other: impl FnOnce(aws_sdk_securityhub::Error) -> PublishError,
) -> PublishError {
    let off = matches!(
        source,
        aws_sdk_securityhub::Error::InvalidAccessException(_)
    ) || source.code().is_some_and(not_enabled);
    if !off {
        return other(source);
    }
    PublishError::NotEnabled {
        account: account.clone(),
        region: region.to_owned(),
        code: source.code().unwrap_or("InvalidAccessException").to_owned(),
        source: Some(source),
    }
}

/// What Security Hub holds under this product's GeneratorId in one
/// account-region.
#[derive(Debug, Default)]
pub struct Existing {
    /// Findings this product wrote: to keep (`CreatedAt`) or archive.
    pub ours: Vec<Finding>,
    /// Findings with our GeneratorId that are not ours (another Id shape,
    /// another product ARN, values we never write): left alone, reported.
    pub foreign: Vec<Foreign>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub account: AccountId,
    pub region: String,
    pub finding_id: String,
    pub reason: String,
}

impl From<&Foreign> for ErrorEntry {
    fn from(f: &Foreign) -> Self {
        let message = format!(
            "finding {} carries this product's GeneratorId but {}; left as it is",
            crate::model::quote(&f.finding_id),
            f.reason
        );
        Self {
            finding_id: Some(f.finding_id.clone()),
            ..Self::new(
                ErrorKind::ForeignFinding,
                f.account.as_str(),
                Some(&f.region),
                message,
            )
        }
    }
}

/// Ours means: our GeneratorId, the Id shape we write for this account and
/// region, this account's default product ARN, and values our model holds.
fn classify(
    f: &aws_sdk_securityhub::types::AwsSecurityFinding,
    account: &AccountId,
    region: &str,
    product_arn: &str,
) -> Result<Finding, String> {
    let id = f.id().unwrap_or_default();
    if !crate::asff::is_our_id(id, account.as_str(), region) {
        return Err("its Id is not of the shape this product writes".into());
    }
    if f.product_arn() != Some(product_arn) || f.aws_account_id() != Some(account.as_str()) {
        return Err("it was not imported under this account's default product ARN".into());
    }
    from_sdk(f).map_err(|field| format!("it holds a value this product never writes ({field})"))
}

/// This product's findings in `account`'s Security Hub in `region`, every
/// record state, all pages. Filtered by the service and again here (moto
/// ignores filters, and another product's finding must never be archived).
/// GetFindings allows 3 requests/s: `client`'s pacer holds that.
#[instrument(skip_all, fields(account = %account, region = %region))]
pub async fn existing_findings(
    client: &aws_sdk_securityhub::Client,
    account: &AccountId,
    region: &str,
) -> Result<Existing, PublishError> {
    use aws_sdk_securityhub::types::{
        AwsSecurityFindingFilters, StringFilter, StringFilterComparison,
    };
    let product_arn =
        crate::asff::product_arn(crate::model::partition_of(region), region, account.as_str());
    let eq = |v: &str| {
        StringFilter::builder()
            .value(v)
            .comparison(StringFilterComparison::Equals)
            .build()
    };
    let filters = AwsSecurityFindingFilters::builder()
        .generator_id(eq(crate::asff::GENERATOR_ID))
        .product_arn(eq(&product_arn))
        .aws_account_id(eq(account.as_str()))
        .build();
    // MaxResults is at most 100 per GetFindings page.
    let mut pages = client
        .get_findings()
        .filters(filters)
        .max_results(100)
        .into_paginator()
        .send();
    let mut out = Existing::default();
    loop {
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| {
            call_failed(e.into(), account, region, |source| {
                PublishError::GetFindings {
                    account: account.clone(),
                    region: region.to_owned(),
                    source,
                }
            })
        })?;
        let with_our_generator = page
            .findings()
            .iter()
            .filter(|f| f.generator_id() == Some(crate::asff::GENERATOR_ID));
        for f in with_our_generator {
            match classify(f, account, region, &product_arn) {
                Ok(ours) => out.ours.push(ours),
                Err(reason) => out.foreign.push(Foreign {
                    account: account.clone(),
                    region: region.to_owned(),
                    finding_id: f.id().unwrap_or_default().to_owned(),
                    reason,
                }),
            }
        }
    }
    debug!(
        existing = out.ours.len(),
        foreign = out.foreign.len(),
        "read existing findings"
    );
    Ok(out)
}

/// Splits findings (given their serialised sizes) into consecutive batches
/// of at most `MAX_BATCH_FINDINGS` and `MAX_BATCH_BYTES`.
pub fn plan_batches(sizes: &[usize]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, &size) in sizes.iter().enumerate() {
        if i > start && (i - start == MAX_BATCH_FINDINGS || bytes + size > MAX_BATCH_BYTES) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// Imports `findings` (all of one account and region).
#[instrument(skip_all, fields(account = %account, region = %region, findings = findings.len()))]
pub async fn import_findings(
    client: &aws_sdk_securityhub::Client,
    account: &AccountId,
    region: &str,
    findings: &[Finding],
    sizes: &[usize],
) -> PublishOutcome {
    debug_assert_eq!(findings.len(), sizes.len(), "one size per finding");
    let mut outcome = PublishOutcome::default();
    for range in plan_batches(sizes) {
        let batch = import_batch(client, account, region, &findings[range.clone()]).await;
        outcome.imported += batch.imported;
        outcome.not_imported += range.len() - batch.imported;
        outcome.errors.extend(batch.errors);
        if batch.stop {
            // Security Hub is off for this account-region: every other batch
            // would fail the same way, so they are not sent.
            outcome.not_imported += findings.len() - range.end;
            break;
        }
    }
    outcome
}

struct BatchResult {
    imported: usize,
    errors: Vec<PublishError>,
    stop: bool,
}

/// One batch, re-sending findings that come back in FailedFindings with a
/// retryable code (bounded); the SDK already retries throttled calls.
async fn import_batch(
    client: &aws_sdk_securityhub::Client,
    account: &AccountId,
    region: &str,
    batch: &[Finding],
) -> BatchResult {
    let mut result = BatchResult {
        imported: 0,
        errors: Vec::new(),
        stop: false,
    };
    let mut pending: Vec<&Finding> = batch.iter().collect();
    for attempt in 0..=FAILED_FINDING_RETRIES {
        if attempt > 0 {
            warn!(
                findings = pending.len(),
                attempt, "re-sending findings Security Hub rejected as retryable"
            );
            tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
        }
        let sent = client
            .batch_import_findings()
            .set_findings(Some(pending.iter().map(|f| to_sdk(f)).collect()))
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) => {
                let err = call_failed(e.into(), account, region, |source| PublishError::Import {
                    account: account.clone(),
                    region: region.to_owned(),
                    findings: pending.len(),
                    source,
                });
                warn!(error = %crate::report::chain(&err), "BatchImportFindings failed");
                result.stop = matches!(err, PublishError::NotEnabled { .. });
                result.errors.push(err);
                return result;
            }
        };
        let failed = out.failed_findings();
        result.imported += pending.len() - failed.len();
        let mut retry_ids = Vec::new();
        for f in failed {
            let code = f.error_code().unwrap_or("Unknown");
            if not_enabled(code) {
                result.stop = true;
                result.errors.push(PublishError::NotEnabled {
                    account: account.clone(),
                    region: region.to_owned(),
                    code: code.to_owned(),
                    source: None,
                });
                return result;
            }
            if attempt < FAILED_FINDING_RETRIES && retryable(code) {
                retry_ids.push(f.id().unwrap_or_default());
            } else {
                result.errors.push(PublishError::Rejected {
                    account: account.clone(),
                    region: region.to_owned(),
                    finding_id: f.id().unwrap_or_default().to_owned(),
                    code: code.to_owned(),
                    message: f.error_message().unwrap_or_default().to_owned(),
                });
            }
        }
        if retry_ids.is_empty() {
            break;
        }
        pending.retain(|f| retry_ids.contains(&f.id.as_str()));
    }
    debug!(
        imported = result.imported,
        rejected = result.errors.len(),
        "batch done"
    );
    result
}

#[cfg(test)]
mod tests;
