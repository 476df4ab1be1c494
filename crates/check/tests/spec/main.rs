//! The gate's specifications, end to end through its own binary: `check`
//! on every fixture kind, each format (SARIF's shape included), the walk,
//! usage errors, the pre-commit hook's patterns, and hostile inputs under a
//! 4 GiB cap. No AWS stand-in is needed: these run in `make unit`.

mod check;
mod hostile;
mod policy;
mod probe_cases;
mod probes;
mod tree_json;

/// What a run printed, and how it ended.
pub type Ran = std::process::Output;

/// The repository root: the fixtures' paths are relative to it, and so is
/// what the gate prints.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `apigw-tracing-check ARGS`, run from the repository root.
pub fn run(args: &[&str]) -> Ran {
    std::process::Command::new(env!("CARGO_BIN_EXE_apigw-tracing-check"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run apigw-tracing-check")
}
