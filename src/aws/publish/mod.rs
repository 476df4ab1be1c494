//! Security Hub: BatchImportFindings with the owning account's credentials,
//! in the stage's region (with the default product ARN, only the finding's
//! own account may import it).

use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::{debug, instrument, warn};

use crate::asff::Finding;
use crate::model::AccountRegion;
use crate::report::{chain, ErrorEntry, ErrorKind};

mod convert;
pub use convert::{from_sdk, to_sdk};

pub use crate::reconcile::{MAX_BATCH_BYTES, MAX_BATCH_FINDINGS};
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

/// GetFindings pages read per account-region: 100,000 findings (three rules
/// over the 6,000 stages of a full region fill 180 pages). Past it, nothing
/// is imported or archived there this run.
pub const MAX_FINDING_PAGES: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{at}: Security Hub is not enabled here, or this account may not import findings ({code}); enable Security Hub in this account and region")]
    NotEnabled {
        at: AccountRegion,
        code: String,
        #[source]
        source: Option<aws_sdk_securityhub::Error>,
    },
    #[error("{at}: securityhub:GetFindings failed; nothing imported or archived here this run")]
    GetFindings {
        at: AccountRegion,
        #[source]
        source: aws_sdk_securityhub::Error,
    },
    #[error("{at}: securityhub:GetFindings did not stop paging after {MAX_FINDING_PAGES} pages; nothing imported or archived here this run")]
    Paging { at: AccountRegion },
    #[error("{at}: securityhub:BatchImportFindings failed for {findings} findings")]
    Import {
        at: AccountRegion,
        findings: usize,
        #[source]
        source: aws_sdk_securityhub::Error,
    },
    #[error("{at}: Security Hub rejected finding {finding_id}: {code}: {message}")]
    Rejected {
        at: AccountRegion,
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
            Self::Paging { .. } => None,
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
        let (kind, at) = match e {
            PublishError::NotEnabled { at, .. } => (ErrorKind::SecurityHubNotEnabled, at),
            PublishError::Import { at, .. } => (ErrorKind::BatchImportFindings, at),
            PublishError::GetFindings { at, .. } | PublishError::Paging { at } => {
                (ErrorKind::GetFindings, at)
            }
            PublishError::Rejected { at, .. } => (ErrorKind::FindingRejected, at),
        };
        Self {
            finding_id: e.finding_id().map(str::to_owned),
            code: e.code(),
            ..Self::at(kind, at, chain(e))
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
    at: &AccountRegion,
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
        at: at.clone(),
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
    pub at: AccountRegion,
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
            ..Self::at(ErrorKind::ForeignFinding, &f.at, message)
        }
    }
}

/// Ours means: our GeneratorId, the Id shape we write for this account and
/// region, this account's default product ARN, and values our model holds.
fn classify(
    f: &aws_sdk_securityhub::types::AwsSecurityFinding,
    at: &AccountRegion,
    product_arn: &str,
) -> Result<Finding, String> {
    let id = f.id().unwrap_or_default();
    if !crate::asff::is_our_id(f.generator_id().unwrap_or_default(), id, at) {
        return Err("its Id is not of the shape this product writes".into());
    }
    if f.product_arn() != Some(product_arn) || f.aws_account_id() != Some(at.account.as_str()) {
        return Err("it was not imported under this account's default product ARN".into());
    }
    from_sdk(f).map_err(|field| format!("it holds a value this product never writes ({field})"))
}

/// This product's findings under `generators` (the stage rule's, and the
/// trace path's when it is on) in `account`'s Security Hub in `region`,
/// every record state, all pages; with `only_apis`, those of these REST
/// APIs only
/// (an `Id` prefix each: Security Hub ORs the values of one field).
/// Filtered by the service and again here (moto ignores filters, and
/// another product's finding must never be archived). GetFindings allows 3
/// requests/s: `client`'s pacer holds that.
#[instrument(skip_all, fields(account = %at.account, region = %at.region))]
pub async fn existing_findings(
    client: &aws_sdk_securityhub::Client,
    at: &AccountRegion,
    generators: &[&str],
    only_apis: Option<&[String]>,
) -> Result<Existing, PublishError> {
    use aws_sdk_securityhub::types::{
        AwsSecurityFindingFilters, StringFilter, StringFilterComparison,
    };
    let product_arn = at.product_arn();
    let eq = |v: &str| {
        StringFilter::builder()
            .value(v)
            .comparison(StringFilterComparison::Equals)
            .build()
    };
    let prefixes: Vec<StringFilter> = only_apis
        .unwrap_or_default()
        .iter()
        .flat_map(|api| generators.iter().map(move |g| (g, api)))
        .map(|(g, api)| {
            StringFilter::builder()
                .value(at.api_finding_id_prefix(g, api))
                .comparison(StringFilterComparison::Prefix)
                .build()
        })
        .collect();
    let filters = AwsSecurityFindingFilters::builder()
        .set_generator_id(Some(generators.iter().map(|g| eq(g)).collect()))
        .product_arn(eq(&product_arn))
        .aws_account_id(eq(at.account.as_str()))
        .set_id((!prefixes.is_empty()).then_some(prefixes))
        .build();
    // MaxResults is at most 100 per GetFindings page.
    let mut pages = client
        .get_findings()
        .filters(filters)
        .max_results(100)
        .into_paginator()
        .send();
    let mut out = Existing::default();
    // The paginator ends on a repeated token; the count on ever-new ones.
    for read_pages in 1.. {
        if read_pages > MAX_FINDING_PAGES {
            return Err(PublishError::Paging { at: at.clone() });
        }
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| {
            call_failed(e.into(), at, |source| PublishError::GetFindings {
                at: at.clone(),
                source,
            })
        })?;
        let with_our_generator = page
            .findings()
            .iter()
            .filter(|f| f.generator_id().is_some_and(|g| generators.contains(&g)));
        for f in with_our_generator {
            match classify(f, at, &product_arn) {
                Ok(ours) => out.ours.push(ours),
                Err(reason) => out.foreign.push(Foreign {
                    at: at.clone(),
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

/// Imports `batches` (all of one account-region, each within
/// BatchImportFindings' limits: `reconcile::prepare` sized them).
#[instrument(skip_all, fields(account = %at.account, region = %at.region, findings = batches.iter().map(Vec::len).sum::<usize>()))]
pub async fn import_findings(
    client: &aws_sdk_securityhub::Client,
    at: &AccountRegion,
    batches: &[Vec<Finding>],
) -> PublishOutcome {
    let mut outcome = PublishOutcome::default();
    for (i, batch) in batches.iter().enumerate() {
        let result = import_batch(client, at, batch).await;
        outcome.imported += result.imported;
        outcome.not_imported += batch.len() - result.imported;
        outcome.errors.extend(result.errors);
        if result.stop {
            // Security Hub is off for this account-region: every other batch
            // would fail the same way, so they are not sent.
            outcome.not_imported += batches[i + 1..].iter().map(Vec::len).sum::<usize>();
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
    at: &AccountRegion,
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
                let err = call_failed(e.into(), at, |source| PublishError::Import {
                    at: at.clone(),
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
                    at: at.clone(),
                    code: code.to_owned(),
                    source: None,
                });
                return result;
            }
            if attempt < FAILED_FINDING_RETRIES && retryable(code) {
                retry_ids.push(f.id().unwrap_or_default());
            } else {
                result.errors.push(PublishError::Rejected {
                    at: at.clone(),
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
