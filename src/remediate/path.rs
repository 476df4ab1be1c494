//! `remediate --trace-path`: set `TracingConfig.Mode=Active` on the Lambda
//! functions behind FAILED trace paths, through the remediation role in
//! each function's account. The paths come from a scan that writes nothing
//! (dry run); without `apply` nothing is written at all. Never writes IAM:
//! when Lambda refuses because the execution role lacks X-Ray, the report
//! gives the exact command for that role.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;
use tracing::{info, warn};

use super::decide::{Action, TAG_NO_REMEDIATE};
use crate::aws::accounts::Identity;
use crate::aws::functions::{self, FunctionFixError};
use crate::aws::pacing::Pacer;
use crate::aws::{AccountSession, AwsEnv};
use crate::config::Config;
use crate::model::{AccountId, Region, StageArn};
use crate::report::{chain, ErrorEntry, RunStatus};
use crate::trace_path::{FunctionRef, PathEvaluation, Pin};

/// One function in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionAction {
    pub function: String,
    pub account: AccountId,
    pub action: Action,
    pub authorizer: bool,
    /// The traced stages it is behind (their ARNs).
    pub stages: Vec<String>,
    /// What is (or would be) run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Why skipped, or the error for `failed` (with the IAM command when
    /// X-Ray was refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PathTotals {
    pub enabled: usize,
    pub would_enable: usize,
    pub skipped: usize,
    pub failed: usize,
}

/// What `remediate --trace-path` did.
#[derive(Debug, Clone, Serialize)]
pub struct PathRemediationReport {
    pub apply: bool,
    pub status: RunStatus,
    pub totals: PathTotals,
    pub functions: Vec<FunctionAction>,
    /// The scan's own errors (an account-region not read: nothing changed
    /// for its stages).
    pub errors: Vec<ErrorEntry>,
}

/// What to do with one function, decided from every FAILED path it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Planned {
    function: FunctionRef,
    role: Option<String>,
    authorizer: bool,
    stages: BTreeSet<String>,
    /// Why it must not be changed, if so.
    skip: Option<String>,
}

/// The functions to fix. Pure. A function is left alone when any stage it
/// is behind opts out (exempt, or tagged no-remediate), when its account
/// is not one this run covers, or when the integration pins a version or
/// alias (published versions never change; only `$LATEST` can).
/// Where a run may write: its accounts, and its regions (which fix the
/// partition). A function is compared on all three: twelve equal digits in
/// another partition are another account.
struct Scope<'a> {
    accounts: &'a BTreeSet<AccountId>,
    regions: &'a BTreeSet<Region>,
}

impl Scope<'_> {
    /// Why `f` is outside, if it is.
    fn outside(&self, f: &FunctionRef) -> Option<String> {
        let partition = self.regions.iter().next().map(|r| r.partition());
        if partition.is_some_and(|p| p != f.region.partition()) {
            return Some(format!(
                "it is in partition {}, not this remediation's ({})",
                f.region.partition(),
                partition.map(|p| p.to_string()).unwrap_or_default()
            ));
        }
        if !self.regions.contains(&f.region) {
            return Some(format!(
                "region {} is not among this remediation's regions",
                f.region
            ));
        }
        if !self.accounts.contains(&f.account) {
            return Some(format!(
                "account {} is not among this remediation's accounts",
                f.account
            ));
        }
        None
    }
}

fn plan(
    paths: &[PathEvaluation],
    named: &[StageArn],
    scope: &Scope<'_>,
    cfg: &Config,
    today: chrono::NaiveDate,
) -> Vec<Planned> {
    let mut out: BTreeMap<FunctionRef, Planned> = BTreeMap::new();
    for p in paths {
        let place = &p.stage.place;
        if !named.is_empty() && !named.iter().any(|a| a.names(place)) {
            continue;
        }
        let opt_out = if p.stage.tags.contains_key(TAG_NO_REMEDIATE) {
            Some(format!(
                "stage {} is tagged {TAG_NO_REMEDIATE}",
                place.arn()
            ))
        } else {
            crate::exempt::lookup(&p.stage, &cfg.exemptions, today)
                .active
                .map(|e| format!("stage {} is exempt ({})", place.arn(), e.source))
        };
        for f in p.failing() {
            let entry = out.entry(f.function.clone()).or_insert_with(|| Planned {
                function: f.function.clone(),
                role: f.state.role.clone(),
                authorizer: false,
                stages: BTreeSet::new(),
                skip: None,
            });
            entry.authorizer |= f.authorizer;
            entry.stages.insert(place.arn());
            if entry.skip.is_none() {
                entry.skip = opt_out.clone();
            }
        }
    }
    for p in out.values_mut() {
        if p.skip.is_some() {
            continue;
        }
        let f = &p.function;
        p.skip = if let Some(why) = scope.outside(f) {
            Some(why)
        } else {
            match f.pin() {
                Pin::Latest => None,
                Pin::Version => Some(format!(
                    "the integration pins published version {}, which cannot change: publish a new version with Active tracing and point the integration at it",
                    f.qualifier.as_deref().unwrap_or_default()
                )),
                Pin::Alias => Some(format!(
                    "the integration names alias {}, which points at a published version: set Active on $LATEST, publish, and move the alias",
                    f.qualifier.as_deref().unwrap_or_default()
                )),
            }
        };
    }
    out.into_values().collect()
}

fn command(f: &FunctionRef) -> String {
    format!(
        "aws lambda update-function-configuration --region {} --function-name {} --tracing-config Mode=Active",
        f.region,
        f.unqualified_arn()
    )
}

/// What the fix needs from the caller.
pub struct PathFix<'a> {
    pub env: &'a AwsEnv,
    pub cfg: &'a Config,
    pub me: &'a Identity,
    /// The accounts this run covers: nothing outside them is written.
    pub covered: BTreeSet<AccountId>,
    /// The regions this run covers (one partition): nor outside these.
    pub regions: BTreeSet<Region>,
    pub apply: bool,
    pub stages: &'a [StageArn],
}

/// Fixes (or, without `apply`, reports) the functions of `paths`.
pub async fn fix_paths(
    fix: &PathFix<'_>,
    paths: &[PathEvaluation],
    errors: Vec<ErrorEntry>,
) -> PathRemediationReport {
    let today = chrono::Utc::now().date_naive();
    let scope = Scope {
        accounts: &fix.covered,
        regions: &fix.regions,
    };
    let planned = plan(paths, fix.stages, &scope, fix.cfg, today);
    let pacer = Pacer::per_second(std::num::NonZeroU32::new(5).expect("5 > 0"));
    let mut sessions: HashMap<AccountId, Result<Arc<AccountSession>, String>> = HashMap::new();
    let mut report = PathRemediationReport {
        apply: fix.apply,
        status: RunStatus::Complete,
        totals: PathTotals::default(),
        functions: Vec::new(),
        errors,
    };
    for p in planned {
        let f = &p.function;
        let mut action = FunctionAction {
            function: f.arn(),
            account: f.account.clone(),
            action: Action::Skipped,
            authorizer: p.authorizer,
            stages: p.stages.iter().cloned().collect(),
            command: None,
            reason: p.skip.clone(),
        };
        if p.skip.is_none() {
            action.command = Some(command(f));
            action.action = if fix.apply {
                match apply_one(fix, &mut sessions, &pacer, &p).await {
                    Ok(()) => Action::Enabled,
                    Err(why) => {
                        action.reason = Some(why);
                        Action::Failed
                    }
                }
            } else {
                Action::WouldEnable
            };
        }
        report.functions.push(action);
    }
    let t = &mut report.totals;
    for a in &report.functions {
        match a.action {
            Action::Enabled => t.enabled += 1,
            Action::WouldEnable => t.would_enable += 1,
            Action::Failed => t.failed += 1,
            _ => t.skipped += 1,
        }
    }
    report.status = if t.failed > 0 || !report.errors.is_empty() {
        RunStatus::Partial
    } else {
        RunStatus::Complete
    };
    report
}

async fn apply_one(
    fix: &PathFix<'_>,
    sessions: &mut HashMap<AccountId, Result<Arc<AccountSession>, String>>,
    pacer: &Pacer,
    p: &Planned,
) -> Result<(), String> {
    let f = &p.function;
    if !sessions.contains_key(&f.account) {
        let s = functions::fix_session(fix.env, fix.cfg, fix.me, &f.account)
            .await
            .map(Arc::new)
            .map_err(|e| chain(&e));
        sessions.insert(f.account.clone(), s);
    }
    let session = sessions[&f.account].clone()?;
    let client = session.lambda(f.region, pacer);
    match functions::enable_active(&client, f, p.role.as_deref()).await {
        Ok(()) => {
            info!(target: "audit", account = %f.account, region = %f.region, function = %f,
                  before = "PassThrough", after = "Active", "function tracing enabled");
            Ok(())
        }
        Err(e) => {
            let why = chain(&e);
            warn!(target: "audit", account = %f.account, region = %f.region, function = %f,
                  error = %why, "function tracing not enabled");
            Err(match e {
                // The command first: it is what the operator needs.
                FunctionFixError::NoXrayPermission { command, .. } => format!(
                    "Lambda refused Active: the execution role lacks xray:PutTraceSegments; run: {command}"
                ),
                _ => why,
            })
        }
    }
}

#[cfg(test)]
#[path = "path_tests.rs"]
mod tests;
