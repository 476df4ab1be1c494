//! The sampling verdicts of one account-region's traced stages: its rules
//! and their statistics read once (only when it has a traced stage), every
//! traced stage judged against them.

use std::collections::BTreeMap;

use tracing::warn;

use super::Ctx;
use crate::aws::{sampling, AccountSession};
use crate::config::SamplingMode;
use crate::model::{AccountRegion, StageRecord};
use crate::report::{chain, ErrorEntry};
use crate::sampling::{evaluate, SamplingEvaluation, SamplingVerdict};

/// What the sampling read gave for one account-region.
#[derive(Debug, Default)]
pub(super) struct SamplingRead {
    pub evaluations: Vec<SamplingEvaluation>,
    /// `sampling_unreadable`: the rules (every verdict UNKNOWN) or the
    /// statistics (verdicts without evidence) could not be read. Never
    /// makes the run partial: the stage findings are published as if
    /// sampling were off.
    pub warnings: Vec<ErrorEntry>,
    /// The rules read, for the cost estimates of the same account-region.
    pub rules: Option<Vec<crate::sampling::SamplingRule>>,
}

pub(super) async fn read_sampling(
    ctx: &Ctx<'_>,
    session: &AccountSession,
    at: &AccountRegion,
    stages: &[StageRecord],
) -> SamplingRead {
    let mut out = SamplingRead::default();
    let traced: Vec<&StageRecord> = stages.iter().filter(|s| s.tracing_enabled).collect();
    if ctx.cfg.sampling == SamplingMode::Off || traced.is_empty() {
        return out;
    }
    let xray = session.xray(at.region, &ctx.pacers.xray);
    let rules = match sampling::rules(&xray, at).await {
        Ok(rules) => rules,
        Err(e) => {
            let why = chain(&e);
            warn!(error = %why, "sampling rules not read; sampling verdicts are UNKNOWN");
            out.warnings.push(ErrorEntry::from(&e));
            out.evaluations = traced
                .into_iter()
                .map(|s| SamplingEvaluation {
                    stage: s.clone(),
                    verdict: SamplingVerdict::unknown(why.clone()),
                    evidence: None,
                })
                .collect();
            return out;
        }
    };
    let stats = match sampling::statistics(&xray, at).await {
        Ok(stats) => stats,
        Err(e) => {
            warn!(error = %chain(&e), "sampling statistics not read; verdicts stand without evidence");
            out.warnings.push(ErrorEntry::from(&e));
            BTreeMap::new()
        }
    };
    out.evaluations = traced
        .into_iter()
        .map(|s| evaluate(s.clone(), &rules, &stats))
        .collect();
    out.rules = Some(rules);
    out
}
