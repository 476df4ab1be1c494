//! apigw-tracing: finds API Gateway REST API stages without X-Ray active
//! tracing across an AWS Organization, keeps one Security Hub finding per
//! stage true, refuses new ones at review, and fixes them on request.
//!
//! The product's verbs: [`scan`], [`check`], [`remediate`], [`react`] and
//! [`hook`], reached through three entry points, [`lambda`] (the function:
//! one event type in, parsed once by [`trigger`], dispatched to a verb),
//! [`cli`] (one file per command) and the hook's own binary. They run over one pure core that knows no SDK
//! type: [`plan`], [`evaluate`], [`exempt`], [`reconcile`] (the one
//! findings step), [`asff`], [`report`], with [`model`] (the value types of
//! places: `AccountId`, `Region`, `StageRef`, `AccountRegion`), [`config`]
//! and [`trigger`] for inputs. Everything that talks to AWS is in [`aws`],
//! whose adapters return the project's own types.

pub mod asff;
pub mod aws;
pub mod check;
pub mod cli;
pub mod config;
pub mod evaluate;
pub mod exempt;
pub mod hook;
pub mod lambda;
pub mod logging;
pub mod model;
pub mod plan;
pub mod react;
pub mod reconcile;
pub mod remediate;
pub mod report;
pub mod scan;
pub mod trace_path;
pub mod trigger;

#[cfg(test)]
#[path = "../tests/kit/events.rs"]
pub(crate) mod testkit;

#[cfg(test)]
mod layout_tests;
