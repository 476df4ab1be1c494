//! The one findings step, shared by `scan` and `remediate`: what was
//! observed, against what Security Hub already holds, gives the findings to
//! import, checked and sized into batches, and what to archive. Pure.
//!
//! - an observed stage keeps its finding `Id`, `CreatedAt` and
//!   `FirstObservedAt`; `UpdatedAt` / `LastObservedAt` move to now;
//! - an ACTIVE finding whose stage was not observed is re-imported
//!   ARCHIVED, but only when the inventory it belongs to completed: a
//!   partial scan never archives anything;
//! - findings already ARCHIVED whose stage is gone are left to expire
//!   (Security Hub deletes them 30 days after their last update);
//! - a finding that breaks the ASFF rules is never sent.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::asff::{self, build_finding, Finding, FirstSeen, InvalidFinding, RecordState};
use crate::evaluate::Evaluation;
use crate::sampling::SamplingEvaluation;
use crate::trace_path::PathEvaluation;

/// Something observed that one finding reports: a stage (the stage rule) or
/// a traced stage's path (the trace-path rule).
pub trait Observed {
    fn finding_id(&self) -> String;
    /// The finding to import; `None` keeps what Security Hub holds as it
    /// is (an UNKNOWN path: seen, so never archived, but not judged).
    fn finding(&self, now: DateTime<Utc>, first_seen: Option<&FirstSeen>) -> Option<Finding>;
}

impl Observed for Evaluation {
    fn finding_id(&self) -> String {
        asff::finding_id(&self.stage.place)
    }
    fn finding(&self, now: DateTime<Utc>, first_seen: Option<&FirstSeen>) -> Option<Finding> {
        Some(build_finding(self, now, first_seen))
    }
}

impl Observed for SamplingEvaluation {
    fn finding_id(&self) -> String {
        asff::sampling_finding_id(&self.stage.place)
    }
    fn finding(&self, now: DateTime<Utc>, first_seen: Option<&FirstSeen>) -> Option<Finding> {
        asff::build_sampling_finding(self, now, first_seen)
    }
}

impl Observed for PathEvaluation {
    fn finding_id(&self) -> String {
        asff::path_finding_id(&self.stage.place)
    }
    fn finding(&self, now: DateTime<Utc>, first_seen: Option<&FirstSeen>) -> Option<Finding> {
        asff::build_path_finding(self, now, first_seen)
    }
}

/// BatchImportFindings accepts at most 100 findings per call.
pub const MAX_BATCH_FINDINGS: usize = 100;
/// ... and at most 6 MB per request (read as decimal, the safe side), with
/// room for the request envelope.
pub const MAX_BATCH_BYTES: usize = 6_000_000 - 64 * 1024;

/// What the observation covered, which decides what an unseen finding means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Every stage in scope was read: an unseen finding's stage is gone.
    Complete,
    /// A read failed: unseen findings are left as they are (and counted).
    Partial,
    /// Only the observed stages are concerned (remediation's PASSED
    /// findings): the others are not looked at.
    ObservedOnly,
}

/// The findings to send for one account-region, and the counts.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Everything to import, in calls BatchImportFindings accepts: one
    /// finding per observed stage, then the archivals.
    pub batches: Vec<Vec<Finding>>,
    /// ACTIVE findings archived because their stage is gone.
    pub archived: usize,
    /// ACTIVE findings whose stage was not observed, left untouched because
    /// the observation was partial.
    pub archive_withheld: usize,
    /// Findings not sent because they break the ASFF rules.
    pub invalid: Vec<InvalidFinding>,
}

impl Prepared {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.batches.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.batches.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
}

/// One rule's findings to import (valid or not), and its counts.
#[derive(Debug, Default)]
pub struct Reconciled {
    pub findings: Vec<Finding>,
    pub archived: usize,
    pub archive_withheld: usize,
}

/// The findings step for one rule. `existing` holds what Security Hub has
/// under that rule's GeneratorId for the same scope (an account-region, or
/// one API of it).
pub fn prepare<T: Observed>(
    observed: &[T],
    existing: &[Finding],
    coverage: Coverage,
    now: DateTime<Utc>,
) -> Prepared {
    Prepared::checked(reconcile(observed, existing, coverage, now))
}

impl Prepared {
    /// Validates and batches what the rules reconciled (several rules of
    /// one account-region share the BatchImportFindings calls).
    pub fn checked(r: Reconciled) -> Self {
        Self::checked_all(vec![r])
    }

    /// The same for several rules (counts added up).
    pub fn checked_all(parts: Vec<Reconciled>) -> Self {
        let mut findings = Vec::new();
        let mut out = Prepared::default();
        for p in parts {
            findings.extend(p.findings);
            out.archived += p.archived;
            out.archive_withheld += p.archive_withheld;
        }
        out.fill(findings);
        out
    }

    fn fill(&mut self, findings: Vec<Finding>) {
        let out = self;
        let mut valid = Vec::with_capacity(findings.len());
        let mut sizes = Vec::with_capacity(findings.len());
        for finding in findings {
            match asff::validate(&finding) {
                Ok(bytes) => {
                    valid.push(finding);
                    sizes.push(bytes);
                }
                Err(bad) => out.invalid.push(bad),
            }
        }
        let mut rest = valid.into_iter();
        out.batches = batch_sizes(&sizes)
            .into_iter()
            .map(|n| rest.by_ref().take(n).collect())
            .collect();
    }
}

/// Every finding to import (valid or not): one per observed stage or path
/// (none for an unjudged path, which still counts as seen), then the
/// archivals; and the archived and withheld counts.
pub fn reconcile<T: Observed>(
    observed: &[T],
    existing: &[Finding],
    coverage: Coverage,
    now: DateTime<Utc>,
) -> Reconciled {
    let by_id: BTreeMap<&str, &Finding> = existing.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut findings = Vec::with_capacity(observed.len());
    let mut seen = BTreeSet::new();
    for ev in observed {
        let id = ev.finding_id();
        let first_seen = by_id.get(id.as_str()).map(|f| FirstSeen::from(*f));
        findings.extend(ev.finding(now, first_seen.as_ref()));
        seen.insert(id);
    }
    let (mut archived, mut withheld) = (0, 0);
    let now = asff::finding_time(now);
    let unseen = existing
        .iter()
        .filter(|f| f.record_state == RecordState::Active && !seen.contains(&f.id));
    for f in unseen {
        match coverage {
            Coverage::ObservedOnly => {}
            Coverage::Partial => withheld += 1,
            Coverage::Complete => {
                let mut gone = f.clone();
                gone.record_state = RecordState::Archived;
                // Must be newer than the stored UpdatedAt or Security Hub
                // ignores the update; LastObservedAt stays when the stage was
                // last seen.
                gone.updated_at = now;
                findings.push(gone);
                archived += 1;
            }
        }
    }
    Reconciled {
        findings,
        archived,
        archive_withheld: withheld,
    }
}

/// How many consecutive findings (given their serialised sizes) go in each
/// call: at most [`MAX_BATCH_FINDINGS`] and [`MAX_BATCH_BYTES`].
pub fn batch_sizes(sizes: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    let (mut count, mut bytes) = (0, 0);
    for &size in sizes {
        if count > 0 && (count == MAX_BATCH_FINDINGS || bytes + size > MAX_BATCH_BYTES) {
            out.push(count);
            count = 0;
            bytes = 0;
        }
        count += 1;
        bytes += size;
    }
    if count > 0 {
        out.push(count);
    }
    out
}

#[cfg(test)]
mod tests;
