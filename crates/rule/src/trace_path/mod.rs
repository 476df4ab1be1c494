//! The whole trace path of a traced stage: the Lambda functions its
//! methods integrate with (AWS and AWS_PROXY) and its Lambda authorizers,
//! each judged by its X-Ray mode. Pure: the adapters read the API's wiring
//! (`aws::wiring`) and the functions (`aws::functions`) into these types.
//!
//! The rule is Lambda.7's: `Active`. A PassThrough function records a
//! segment only for requests an upstream already sampled, and the older and
//! current Lambda guides describe even that differently; a function that
//! does not trace on its own leaves a gap in the service map whenever it is
//! called another way, so only `Active` passes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::StageRecord;

mod otel;
mod uri;
pub use otel::{is_otel_layer, Otel, EXEC_WRAPPER, OTEL_WRAPPERS, PROPAGATORS};
pub use uri::{authorizer_hop, integration_hop, FunctionRef, Hop, Pin};

/// One REST API's wiring as GetResources (`embed=methods`) and
/// GetAuthorizers show it: the current resources, which the next
/// deployment gives every stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiWiring {
    pub integrations: Vec<Integration>,
    pub authorizers: BTreeMap<String, Authorizer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// `GET /orders/{id}`.
    pub method: String,
    pub integration_type: String,
    pub connection_type: Option<String>,
    pub uri: Option<String>,
    /// The method's authorizer (CUSTOM authorization).
    pub authorizer_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorizer {
    pub name: String,
    /// TOKEN, REQUEST or COGNITO_USER_POOLS.
    pub authorizer_type: String,
    pub uri: Option<String>,
}

/// A function's X-Ray mode as read, or why it could not be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", content = "reason")]
pub enum FunctionMode {
    Active,
    PassThrough,
    Unknown(String),
}

impl FunctionMode {
    pub fn as_str(&self) -> &str {
        match self {
            FunctionMode::Active => "Active",
            FunctionMode::PassThrough => "PassThrough",
            FunctionMode::Unknown(_) => "UNKNOWN",
        }
    }
}

/// What was read of one function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionState {
    #[serde(flatten)]
    pub mode: FunctionMode,
    /// The execution role (the fix names it when X-Ray is refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// OpenTelemetry on the function (notes, not the verdict).
    #[serde(skip_serializing_if = "otel_is_off")]
    pub otel: Otel,
}

fn otel_is_off(o: &Otel) -> bool {
    !o.instrumented
}

/// The steps of one stage's path before the functions are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps {
    /// Each function, and whether any step reaches it as an authorizer.
    pub functions: BTreeMap<FunctionRef, bool>,
    /// Integrations nothing AWS traces (`GET /x: HTTP integration`).
    pub not_traceable: BTreeSet<String>,
    /// Lambda targets that could not be resolved, and why.
    pub unresolved: BTreeSet<String>,
}

/// The steps of `stage`'s path through `wiring`: its own stage variables
/// resolve each URI. Only authorizers some method uses are on the path.
pub fn steps(stage: &StageRecord, wiring: &ApiWiring) -> Steps {
    let mut out = Steps::default();
    let vars = &stage.variables;
    let mut add = |hop: Hop, what: &str, authorizer: bool| match hop {
        Hop::Function(f) => {
            *out.functions.entry(f).or_default() |= authorizer;
        }
        Hop::NotTraceable(kind) => {
            out.not_traceable.insert(format!("{what}: {kind}"));
        }
        Hop::Unresolved(why) => {
            out.unresolved.insert(format!("{what}: {why}"));
        }
    };
    let mut used = BTreeSet::new();
    for i in &wiring.integrations {
        let hop = integration_hop(
            &i.integration_type,
            i.connection_type.as_deref(),
            i.uri.as_deref(),
            vars,
        );
        add(hop, &i.method, false);
        used.extend(i.authorizer_id.iter().cloned());
    }
    for id in used {
        let Some(a) = wiring.authorizers.get(&id) else {
            continue;
        };
        if a.authorizer_type == "COGNITO_USER_POOLS" {
            continue;
        }
        add(
            authorizer_hop(a.uri.as_deref(), vars),
            &format!("authorizer {}", a.name),
            true,
        );
    }
    out
}

/// A traced stage's path verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PathStatus {
    /// Every function behind the stage is `Active`.
    Passed,
    /// Some function read is not `Active`.
    Failed,
    /// None failed, but some could not be read or resolved: the finding
    /// is left as it is (never FAILED, never archived on a guess).
    Unknown,
}

/// One function on a stage's path, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathFunction {
    pub function: FunctionRef,
    pub authorizer: bool,
    #[serde(flatten)]
    pub state: FunctionState,
}

impl PathFunction {
    pub fn fails(&self) -> bool {
        self.state.mode == FunctionMode::PassThrough
    }
}

/// A traced stage with its path and verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct PathEvaluation {
    pub stage: StageRecord,
    pub status: PathStatus,
    /// Failing functions first, then unknown ones, then the rest (the
    /// finding lists them in this order, up to the ASFF limit).
    pub functions: Vec<PathFunction>,
    pub not_traceable: Vec<String>,
    pub unresolved: Vec<String>,
}

impl PathEvaluation {
    pub fn failing(&self) -> impl Iterator<Item = &PathFunction> {
        self.functions.iter().filter(|f| f.fails())
    }
}

/// Judges a stage's path once its functions are read (`read` gives each
/// function's state; one missing from it is unknown).
pub fn evaluate(
    stage: StageRecord,
    steps: Steps,
    read: &BTreeMap<FunctionRef, FunctionState>,
) -> PathEvaluation {
    let mut functions: Vec<PathFunction> = steps
        .functions
        .into_iter()
        .map(|(function, authorizer)| {
            let state = read.get(&function).cloned().unwrap_or(FunctionState {
                mode: FunctionMode::Unknown("not read".into()),
                role: None,
                otel: Otel::default(),
            });
            PathFunction {
                function,
                authorizer,
                state,
            }
        })
        .collect();
    let rank = |f: &PathFunction| match f.state.mode {
        FunctionMode::PassThrough => 0,
        FunctionMode::Unknown(_) => 1,
        FunctionMode::Active => 2,
    };
    functions.sort_by(|a, b| (rank(a), &a.function).cmp(&(rank(b), &b.function)));
    let unknown = !steps.unresolved.is_empty()
        || functions
            .iter()
            .any(|f| matches!(f.state.mode, FunctionMode::Unknown(_)));
    let status = if functions.iter().any(PathFunction::fails) {
        PathStatus::Failed
    } else if unknown {
        PathStatus::Unknown
    } else {
        PathStatus::Passed
    };
    PathEvaluation {
        stage,
        status,
        functions,
        not_traceable: steps.not_traceable.into_iter().collect(),
        unresolved: steps.unresolved.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests;
