//! apigw-tracing: finds API Gateway REST API stages without X-Ray active
//! tracing across an AWS Organization, keeps one Security Hub finding per
//! stage true, refuses new ones at review, and fixes them on request.
//!
//! Three packages: the rule (`apigw-tracing-rule`: [`model`], [`evaluate`],
//! [`exempt`], [`trace_path`]; no I/O, no SDK), the gate
//! (`apigw-tracing-check`: [`check`], the [`hook`]'s decision, no SDK) and
//! this one, the runtime: [`scan`], [`remediate`], [`react`], reached
//! through [`lambda`] (the function: one event type in, parsed once by
//! [`trigger`], dispatched to a verb) and [`cli`] (one file per command,
//! `check` delegated to the gate). Its pure parts ([`plan`], [`reconcile`]
//! (the one findings step), [`asff`], [`report`], [`config`]) know no SDK
//! type; everything that talks to AWS is in [`aws`], whose adapters return
//! the project's own types. The rule's and the gate's modules are
//! re-exported under their usual names.

pub mod asff;
pub mod aws;
pub mod cli;
pub mod config;
pub mod estimate;
pub mod lambda;
pub mod plan;
pub mod react;
pub mod reconcile;
pub mod remediate;
pub mod report;
pub mod scan;
pub mod trigger;

pub use apigw_tracing_check::{check, hook, logging};
pub use apigw_tracing_rule::{cost, evaluate, exempt, model, sampling, trace_path};

#[cfg(test)]
#[path = "../tests/kit/events.rs"]
pub(crate) mod testkit;

#[cfg(test)]
mod layout_tests;
