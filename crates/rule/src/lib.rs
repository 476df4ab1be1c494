//! apigw-tracing's rule, whole: where a stage is (`model`), whether it
//! passes (`evaluate`), what exempts it (`exempt`), and whether the
//! functions behind it trace (`trace_path`). Pure: no I/O, no AWS SDK, no
//! async runtime. The scan, `check` and the hook call the same functions
//! over the same types; Cargo keeps it that way (this package depends on
//! none of theirs).

pub mod cost;
pub mod evaluate;
pub mod exempt;
pub mod model;
pub mod report;
pub mod sampling;
pub mod trace_path;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
