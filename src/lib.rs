//! apigw-tracing: finds API Gateway REST API stages without X-Ray active
//! tracing across an AWS Organization and reports them to Security Hub.
//!
//! The product's verbs: [`scan`] (and [`lambda`] / [`cli`], its entry
//! points). They run over one pure core that knows no SDK type: [`plan`],
//! [`evaluate`], [`exempt`], [`asff`], [`reconcile`], [`report`] (with
//! [`model`], [`config`] and [`trigger`] for inputs). Everything that talks
//! to AWS is in [`aws`].

pub mod asff;
pub mod aws;
pub mod check;
pub mod cli;
pub mod config;
pub mod evaluate;
pub mod exempt;
pub mod lambda;
pub mod logging;
pub mod model;
pub mod plan;
pub mod reconcile;
pub mod remediate;
pub mod report;
pub mod scan;
pub mod trigger;

#[cfg(test)]
#[path = "../tests/kit/events.rs"]
pub(crate) mod testkit;

#[cfg(test)]
mod layout_tests;
