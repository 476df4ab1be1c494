//! Integration tests against a real moto_server, through the real SDK.

mod check_parity;
mod cli;
mod cost;
mod deploy;
#[path = "../kit/events.rs"]
mod events;
mod fanout;
mod faults;
mod harness;
mod hook;
mod hook_deploy;
mod lambda;
mod lambda_kit;
mod lifecycle;
mod loopback;
mod paging;
mod policy_opa;
mod proxy;
mod react;
mod remediate;
mod runtime;
mod runtime_api;
mod sampling;
mod scan;
mod shapes;
mod support;
mod trace_path;
mod xray_kit;
