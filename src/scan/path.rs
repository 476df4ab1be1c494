//! The trace path of one account-region's traced stages: each API with a
//! traced stage walked once (GetResources under its own quota, then
//! GetAuthorizers), each stage's functions resolved with its own stage
//! variables, each distinct function read once per run.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;
use futures::{stream, FutureExt, StreamExt};

use super::Ctx;
use crate::aws::{wiring, AccountSession};
use crate::model::{AccountRegion, StageRecord};
use crate::report::{ErrorEntry, ErrorKind};
use crate::trace_path::{evaluate, steps, FunctionRef, PathEvaluation, Steps};

/// Walks and function reads in flight per account-region: the pacers set
/// the rates, this only hides latency.
const IN_FLIGHT: usize = 4;

/// What the path read gave for one account-region.
#[derive(Debug, Default)]
pub(super) struct PathRead {
    pub evaluations: Vec<PathEvaluation>,
    /// A walk failed: the run is partial (its stages' paths are UNKNOWN).
    pub errors: Vec<ErrorEntry>,
    /// A function could not be read (its paths are UNKNOWN).
    pub warnings: Vec<ErrorEntry>,
}

/// The paths of `stages`' traced ones (exempt stages do not trace, so they
/// have none).
pub(super) async fn read_paths(
    ctx: &Ctx<'_>,
    session: &AccountSession,
    at: &AccountRegion,
    stages: &[StageRecord],
) -> PathRead {
    let mut out = PathRead::default();
    let Some(reader) = ctx.functions.as_ref() else {
        return out;
    };
    let mut traced: BTreeMap<&str, Vec<&StageRecord>> = BTreeMap::new();
    for s in stages.iter().filter(|s| s.tracing_enabled) {
        traced.entry(s.place.api_id.as_str()).or_default().push(s);
    }
    // Owned items: borrowed ones trip the higher-ranked `Send` proof of the
    // boxed futures (rust-lang/rust#102211).
    let apis: Vec<String> = traced.keys().map(|a| (*a).to_owned()).collect();
    if apis.is_empty() {
        return out;
    }
    let apigw = session.apigateway(at.region, &ctx.pacers.apigw);
    let walk = session.apigateway_walk(at.region, &ctx.pacers.apigw, &ctx.pacers.getresources);
    let (walk, apigw) = (&walk, &apigw);
    // Walks and function reads overlap: each API's functions are queued
    // as soon as its walk is done, so the reads (Lambda's own quota) run
    // under the walks (GetResources' 5 every 2 s), not after them.
    let (queue, queued) = futures::channel::mpsc::unbounded::<FunctionRef>();
    let walker = async {
        let mut stage_steps: Vec<(&StageRecord, Steps)> = Vec::new();
        let mut seen: BTreeSet<FunctionRef> = BTreeSet::new();
        let mut errors = Vec::new();
        let mut walk_warnings = Vec::new();
        let mut walks = stream::iter(apis)
            .map(|api: String| -> BoxFuture<'_, _> {
                async move {
                    let read = wiring::read(walk, apigw, at, &api).await;
                    (api, read)
                }
                .boxed()
            })
            .buffer_unordered(IN_FLIGHT);
        while let Some((api, read)) = walks.next().await {
            let read = read.map_err(|e| {
                // A paging overrun is this API's alone: a warning.
                match e.is_overrun() {
                    true => walk_warnings.push(ErrorEntry::from(&e)),
                    false => errors.push(ErrorEntry::from(&e)),
                }
                crate::report::chain(&e)
            });
            for s in traced.get(api.as_str()).into_iter().flatten() {
                let st = match &read {
                    Ok(w) => {
                        let st = steps(s, w);
                        // Why this path is UNKNOWN, said once per stage.
                        if !st.unresolved.is_empty() {
                            let why: Vec<&str> = st.unresolved.iter().map(String::as_str).collect();
                            let message = crate::model::cut_to(
                                &format!(
                                    "stage {} of API {}: its trace path is UNKNOWN: {}",
                                    s.place.stage,
                                    s.place.api_id,
                                    why.join("; ")
                                ),
                                1000,
                            );
                            walk_warnings.push(ErrorEntry {
                                api_id: Some(s.place.api_id.clone()),
                                ..ErrorEntry::at(ErrorKind::PathUnresolved, at, message)
                            });
                        }
                        st
                    }
                    Err(why) => Steps {
                        unresolved: BTreeSet::from([why.clone()]),
                        ..Steps::default()
                    },
                };
                for f in st.functions.keys() {
                    if seen.insert(f.clone()) {
                        // The receiver lives until this sender is dropped.
                        let _ = queue.unbounded_send(f.clone());
                    }
                }
                stage_steps.push((*s, st));
            }
        }
        drop(queue);
        (stage_steps, errors, walk_warnings)
    };
    let reads = async {
        let mut states = BTreeMap::new();
        let mut warnings = Vec::new();
        let mut reads = queued
            .map(|f: FunctionRef| -> BoxFuture<'_, _> {
                async move {
                    let read = reader.read(&f, session).await;
                    (f, read)
                }
                .boxed()
            })
            .buffer_unordered(IN_FLIGHT);
        while let Some((f, (state, problem))) = reads.next().await {
            warnings.extend(problem.as_ref().map(ErrorEntry::from));
            states.insert(f, state);
        }
        (states, warnings)
    };
    let ((mut stage_steps, errors, walk_warnings), (states, mut warnings)) =
        futures::join!(walker, reads);
    warnings.extend(walk_warnings);
    out.errors = errors;
    out.warnings = warnings;
    stage_steps.sort_by(|a, b| a.0.place.cmp(&b.0.place));
    out.evaluations = stage_steps
        .into_iter()
        .map(|(s, st)| evaluate(s.clone(), st, &states))
        .collect();
    out
}
