//! One failure (or warning) of a run, with every piece of context there
//! is. Each adapter turns its own error into an [`ErrorEntry`]
//! (`From<&XError>`), so nothing here knows an SDK type.

use serde::{Serialize, Serializer};

use crate::model::{AccountId, AccountRegion, Region, StageRef};

/// An account id that may be unknown, written `""` then (the JSON keeps
/// the shape it always had).
pub fn account_or_empty<S: Serializer>(a: &Option<AccountId>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.as_ref().map(AccountId::as_str).unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    AssumeRole,
    /// A fan-out message could not be queued.
    Enqueue,
    /// Not scanned (or interrupted) because the run's deadline came.
    NotScanned,
    GetRestApis,
    GetStages,
    GetFindings,
    InvalidExemption,
    InvalidFinding,
    SecurityHubNotEnabled,
    BatchImportFindings,
    FindingRejected,
    /// A finding with this product's GeneratorId that is not ours (warning).
    ForeignFinding,
    /// A remediation write (UpdateStage) failed or was not confirmed.
    Remediation,
    /// `remediate --stage` named a stage that was not found.
    StageNotFound,
    /// The trace path's walk of one API (its stages' paths are UNKNOWN).
    GetResources,
    GetAuthorizers,
    /// A function behind a traced stage could not be read (warning: its
    /// paths are UNKNOWN, never FAILED).
    FunctionUnreadable,
    /// A trace-path fix (UpdateFunctionConfiguration) failed.
    FunctionRemediation,
    /// A paging loop did not end within its page cap (warning: what it
    /// read is UNKNOWN this run).
    PagingOverrun,
    /// A traced stage's trace path names a target that does not resolve
    /// (warning: the path is UNKNOWN).
    PathUnresolved,
    /// An account-region's X-Ray sampling rules (or their statistics)
    /// could not be read (warning: its sampling verdicts are UNKNOWN, the
    /// findings left as they were).
    SamplingUnreadable,
    /// Something a cost estimate reads (traffic, rules, the trace
    /// destination) could not be read (warning: the estimate says what it
    /// assumed instead, or has no number).
    EstimateUnreadable,
}

/// One failure, with every piece of context there is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    pub kind: ErrorKind,
    /// `None` (`""` in the JSON) for what concerns no one account: the
    /// organization listing, a whole fan-out batch.
    #[serde(serialize_with = "account_or_empty")]
    pub account: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The error and its whole chain of causes.
    pub message: String,
}

pub use apigw_tracing_rule::report::chain;

impl ErrorEntry {
    /// An entry with no API, finding or code (set them with `..`).
    pub fn new(
        kind: ErrorKind,
        account: Option<&AccountId>,
        region: Option<Region>,
        message: String,
    ) -> Self {
        Self {
            kind,
            account: account.cloned(),
            region,
            api_id: None,
            finding_id: None,
            code: None,
            message,
        }
    }

    /// An entry about one account-region.
    pub fn at(kind: ErrorKind, at: &AccountRegion, message: String) -> Self {
        Self::new(kind, Some(&at.account), Some(at.region), message)
    }

    pub fn not_scanned(at: &AccountRegion, why: &str) -> Self {
        Self::at(ErrorKind::NotScanned, at, format!("{at}: {why}"))
    }

    pub fn invalid_exemption(stage: &StageRef, problem: &str) -> Self {
        let message = format!("stage {} of API {}: {problem}", stage.stage, stage.api_id);
        Self {
            api_id: Some(stage.api_id.clone()),
            ..Self::at(
                ErrorKind::InvalidExemption,
                &stage.account_region(),
                message,
            )
        }
    }
}

/// A finding that breaks the ASFF rules and was not sent.
impl From<&crate::asff::InvalidFinding> for ErrorEntry {
    fn from(e: &crate::asff::InvalidFinding) -> Self {
        Self {
            finding_id: Some(e.id.clone()),
            ..Self::new(
                ErrorKind::InvalidFinding,
                Some(&e.account),
                Some(e.region),
                chain(e),
            )
        }
    }
}
