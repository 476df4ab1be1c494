//! What a run did: per account-region counts, every error with its context,
//! and the requests made. Serialised as the Lambda result and `--format
//! json`; rendered as a table for people (`table`). Pure: each adapter
//! turns its own error into an [`ErrorEntry`] (`From<&XError>`), so nothing
//! here knows an SDK type.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::trigger::Trigger;

mod table;

/// Calls (operations) and attempts (HTTP requests, retries included) of one
/// `Service.Operation`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OpCount {
    pub calls: u64,
    pub attempts: u64,
}

/// What a planning run (fan-out) queued.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FanOutReport {
    pub queue_url: String,
    pub accounts_queued: usize,
    pub accounts_not_queued: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every planned account-region was scanned and every finding landed
    /// (or, in a dry run, was built).
    Complete,
    /// Something could not be scanned or published; see `errors`.
    Partial,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Complete => "complete",
            RunStatus::Partial => "partial",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub status: RunStatus,
    pub dry_run: bool,
    pub trigger: Trigger,
    pub started_at: String,
    pub duration_ms: u64,
    pub scanner_account: String,
    pub regions: Vec<String>,
    pub totals: Totals,
    pub results: Vec<RegionResult>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<ErrorEntry>,
    /// Problems that do not make the run partial (malformed exemption tags).
    pub warnings: Vec<ErrorEntry>,
    /// A planning run (fan-out): what it queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fan_out: Option<FanOutReport>,
    /// AWS requests by `Service.Operation`: calls, and attempts (retries included).
    pub requests: BTreeMap<String, OpCount>,
    /// Each configured exemption and how many stages it matched this run
    /// (an over-broad `*/*/*` shows here; so does one that matches nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exemptions: Vec<ExemptionUse>,
    /// Change events that changed nothing, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<crate::trigger::change::IgnoredEvent>,
}

/// One configured exemption (`APIGW_TRACING_EXEMPTIONS` entry `index`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExemptionUse {
    pub index: usize,
    pub stage: String,
    pub stages_matched: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub accounts: usize,
    pub accounts_failed: usize,
    pub account_regions: usize,
    pub apis: usize,
    pub stages: usize,
    pub failing: usize,
    pub passing: usize,
    pub exempt: usize,
    pub archived: usize,
    pub findings_imported: usize,
    pub findings_not_imported: usize,
    pub errors: usize,
}

/// One account in one region.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegionResult {
    pub account: String,
    pub region: String,
    pub apis: usize,
    pub stages: usize,
    /// Failing stages, exempted ones not included.
    pub failing: usize,
    pub passing: usize,
    /// Failing stages with an exemption in force (reported ARCHIVED).
    pub exempt: usize,
    /// Findings archived because their stage is gone.
    pub archived: usize,
    /// Findings of unseen stages left untouched because the inventory was
    /// incomplete (a partial scan never archives).
    pub archive_withheld: usize,
    /// Findings Security Hub accepted (0 in a dry run).
    pub imported: usize,
    /// Findings built but not imported: rejected, invalid, or not sent
    /// because of an error (a dry run counts none here).
    pub not_imported: usize,
    /// False when any inventory call failed: stages may be missing.
    pub inventory_complete: bool,
    pub errors: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub account: String,
    pub reason: String,
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
}

/// One failure, with every piece of context there is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    pub kind: ErrorKind,
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The error and its whole chain of causes.
    pub message: String,
}

/// The error and each of its causes, `: `-separated. (The SDK's
/// DisplayErrorContext also appends a Debug dump of the whole chain: too
/// much for a report an operator reads.)
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        // Some errors repeat their cause in their own message.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

impl ErrorEntry {
    /// An entry with no API, finding or code (set them with `..`).
    pub fn new(kind: ErrorKind, account: &str, region: Option<&str>, message: String) -> Self {
        Self {
            kind,
            account: account.to_owned(),
            region: region.map(str::to_owned),
            api_id: None,
            finding_id: None,
            code: None,
            message,
        }
    }

    pub fn not_scanned(account: &str, region: &str, why: &str) -> Self {
        let message = format!("account {account} region {region}: {why}");
        Self::new(ErrorKind::NotScanned, account, Some(region), message)
    }

    pub fn invalid_exemption(
        account: &str,
        region: &str,
        api_id: &str,
        stage: &str,
        problem: &str,
    ) -> Self {
        let message = format!("stage {stage} of API {api_id}: {problem}");
        Self {
            api_id: Some(api_id.to_owned()),
            ..Self::new(ErrorKind::InvalidExemption, account, Some(region), message)
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
                &e.account,
                Some(&e.region),
                chain(e),
            )
        }
    }
}

impl Summary {
    /// Adds another run's rows, errors and requests to this one (a burst of
    /// change events answers with one summary).
    pub fn absorb(&mut self, other: Summary) {
        self.results.extend(other.results);
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.skipped.extend(other.skipped);
        self.duration_ms += other.duration_ms;
        for region in other.regions {
            if !self.regions.contains(&region) {
                self.regions.push(region);
            }
        }
        if self.scanner_account.is_empty() {
            self.scanner_account = other.scanner_account;
        }
        for (op, c) in other.requests {
            let mine = self.requests.entry(op).or_default();
            mine.calls += c.calls;
            mine.attempts += c.attempts;
        }
        self.finish();
    }

    /// An empty summary of a run about to start.
    pub fn new(
        trigger: Trigger,
        dry_run: bool,
        started_at: DateTime<Utc>,
        scanner_account: &str,
        regions: &[String],
        skipped: Vec<Skipped>,
    ) -> Self {
        Summary {
            status: RunStatus::Complete,
            dry_run,
            trigger,
            started_at: crate::asff::timestamp(started_at),
            duration_ms: 0,
            scanner_account: scanner_account.to_owned(),
            regions: regions.to_vec(),
            totals: Totals::default(),
            results: Vec::new(),
            skipped,
            errors: Vec::new(),
            warnings: Vec::new(),
            fan_out: None,
            requests: BTreeMap::new(),
            exemptions: Vec::new(),
            ignored: Vec::new(),
        }
    }

    /// Recomputes totals and status from results and errors.
    pub fn finish(&mut self) {
        let mut t = Totals {
            accounts: self
                .results
                .iter()
                .map(|r| r.account.as_str())
                .chain(
                    self.errors
                        .iter()
                        .filter(|e| e.kind == ErrorKind::AssumeRole)
                        .map(|e| e.account.as_str()),
                )
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            accounts_failed: self
                .errors
                .iter()
                .filter(|e| e.kind == ErrorKind::AssumeRole)
                .count(),
            account_regions: self.results.len(),
            errors: self.errors.len(),
            ..Totals::default()
        };
        for r in &self.results {
            t.apis += r.apis;
            t.stages += r.stages;
            t.failing += r.failing;
            t.passing += r.passing;
            t.exempt += r.exempt;
            t.archived += r.archived;
            t.findings_imported += r.imported;
            t.findings_not_imported += r.not_imported;
        }
        self.status = if self.errors.is_empty() {
            RunStatus::Complete
        } else {
            RunStatus::Partial
        };
        self.totals = t;
        self.results
            .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        self.errors.sort_by(|a, b| {
            (&a.account, &a.region, &a.api_id).cmp(&(&b.account, &b.region, &b.api_id))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(account: &str, region: &str, failing: usize, passing: usize) -> RegionResult {
        RegionResult {
            account: account.into(),
            region: region.into(),
            apis: 1,
            stages: failing + passing,
            failing,
            passing,
            imported: failing + passing,
            inventory_complete: true,
            ..RegionResult::default()
        }
    }

    fn summary(results: Vec<RegionResult>, errors: Vec<ErrorEntry>) -> Summary {
        let mut s = Summary {
            status: RunStatus::Complete,
            dry_run: false,
            trigger: Trigger::Cli,
            started_at: String::new(),
            duration_ms: 0,
            scanner_account: "000000000000".into(),
            regions: vec![],
            totals: Totals::default(),
            results,
            skipped: vec![],
            errors,
            warnings: vec![],
            fan_out: None,
            requests: BTreeMap::new(),
            exemptions: Vec::new(),
            ignored: Vec::new(),
        };
        s.finish();
        s
    }

    #[test]
    fn totals_add_up_and_errors_make_a_run_partial() {
        let ok = summary(
            vec![
                result("111111111111", "eu-west-1", 2, 1),
                result("222222222222", "eu-west-1", 0, 4),
            ],
            vec![],
        );
        assert_eq!(ok.status, RunStatus::Complete);
        assert_eq!(
            (
                ok.totals.accounts,
                ok.totals.stages,
                ok.totals.failing,
                ok.totals.passing
            ),
            (2, 7, 2, 5)
        );
        let err = ErrorEntry {
            kind: ErrorKind::AssumeRole,
            account: "333333333333".into(),
            region: None,
            api_id: None,
            finding_id: None,
            code: Some("AccessDenied".into()),
            message: "account 333333333333: cannot assume".into(),
        };
        let partial = summary(vec![result("111111111111", "eu-west-1", 2, 1)], vec![err]);
        assert_eq!(partial.status, RunStatus::Partial);
        assert_eq!(
            (partial.totals.accounts, partial.totals.accounts_failed),
            (2, 1)
        );
        let table = partial.render_table();
        assert!(
            table.contains("[AssumeRole AccessDenied] account 333333333333"),
            "{table}"
        );
        assert!(table.contains("status: PARTIAL"), "{table}");
    }
}
