//! `apigw-tracing completions SHELL`.

use super::{Cli, ExitStatus, Output};

pub fn run(shell: clap_complete::Shell, out: &mut Output<'_>) -> ExitStatus {
    let mut script = Vec::new();
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "apigw-tracing", &mut script);
    out.emit(&script);
    ExitStatus::Complete
}
