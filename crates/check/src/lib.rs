//! apigw-tracing's gate: what `check` reads (Terraform plans and source,
//! CloudFormation / SAM / CDK templates, Serverless Framework services) and
//! prints (table, JSON, SARIF, OCSF-free), and the CloudFormation hook's
//! decision. It judges with the rule package's functions and links no AWS
//! SDK: Cargo's dependency tree says so (`tests/deps.rs`).

pub mod check;
pub mod cli;
pub mod hook;
#[cfg(feature = "logging")]
pub mod logging;

// The rule's modules under their usual names, so `crate::model::...`
// reads the same here as in the scanner.
pub use apigw_tracing_rule::{evaluate, exempt, model, report, trace_path};
