//! apigw-tracing: finds API Gateway REST API stages without X-Ray active
//! tracing across an AWS Organization and reports them to Security Hub.
//!
//! Pure core: [`evaluate`], [`asff`], [`report`]. Edges that talk to AWS:
//! [`accounts`], [`inventory`], [`publish`]. [`scan`] wires them together;
//! [`cli`] and [`lambda`] are the two entry points.

pub mod accounts;
pub mod asff;
pub mod aws;
pub mod cli;
pub mod config;
pub mod evaluate;
pub mod exempt;
pub mod fanout;
pub mod inventory;
pub mod lambda;
pub mod logging;
pub mod model;
pub mod pacing;
pub mod publish;
pub mod reconcile;
pub mod report;
pub mod scan;
pub mod trigger;
