//! Runs the CLI as a child process and measures it: wall time, peak RSS
//! (its own, from `wait4`), and the JSON it prints.
#![allow(dead_code)] // shared by two programs; each uses part of it

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Measured {
    pub json: serde_json::Value,
    pub wall: Duration,
    pub peak_rss_kib: i64,
    pub status: ExitStatus,
    /// When the child was started.
    pub started: Instant,
}

/// Spawns `cmd` (stdout piped and parsed as JSON, stderr inherited) and
/// waits for it.
pub fn run(mut cmd: Command) -> Measured {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let started = Instant::now();
    // Reaped below by wait4, which also gives its peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("run apigw-tracing");
    let pid = child.id() as libc::pid_t;
    let stdout = child.stdout.expect("stdout");
    // Buffered: unbuffered, serde_json reads a pipe a byte per syscall and
    // the child waits on a full pipe (its wall time would be ours).
    let reader = std::thread::spawn(move || {
        serde_json::from_reader::<_, serde_json::Value>(std::io::BufReader::new(stdout))
    });
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::wait4(pid, &mut status, 0, &mut usage) },
        pid,
        "wait4"
    );
    let wall = started.elapsed();
    let status = ExitStatus::from_raw(status);
    let json = reader
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("no summary JSON ({e}); exit {status}"));
    Measured {
        json,
        wall,
        peak_rss_kib: usage.ru_maxrss,
        status,
        started,
    }
}
