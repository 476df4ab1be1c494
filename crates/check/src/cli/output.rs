//! Where a command writes, and how it ends: shared by the gate's binary
//! and the scanner's CLI, so `apigw-tracing check` and
//! `apigw-tracing-check` print and exit alike.

use std::io::Write;

/// How a command ended, as its exit code tells other tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything done (scanned and published; no failing stage for
    /// `check`; every planned change made or planned).
    Complete,
    /// 1: something could not be scanned, published or changed (see the
    /// report's errors).
    Partial,
    /// 2: usage or configuration error; nothing was done.
    Usage,
    /// 3: a stage fails the check (`check`, or `scan --fail-on-findings`).
    Findings,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Complete => 0,
            ExitStatus::Partial => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Findings => 3,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

/// Where a command writes: its results (standard output) and its messages
/// (standard error). A reader that stopped reading (`| head -1`) is not a
/// failure: like ripgrep, the command stops writing quietly. Any other
/// write error is reported once.
pub struct Output<'a> {
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
    closed: bool,
}

impl<'a> Output<'a> {
    pub fn new(stdout: &'a mut dyn Write, stderr: &'a mut dyn Write) -> Self {
        Self {
            stdout,
            stderr,
            closed: false,
        }
    }

    /// Writes `bytes` as a result.
    pub fn emit(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        let written = self
            .stdout
            .write_all(bytes)
            .and_then(|()| self.stdout.flush());
        self.settle(written);
    }

    /// Streams `v` as pretty JSON (an organization's summary is several
    /// MB: no intermediate string).
    pub fn json<T: serde::Serialize>(&mut self, v: &T) {
        if self.closed {
            return;
        }
        let mut buffered = std::io::BufWriter::new(&mut *self.stdout);
        let written = serde_json::to_writer_pretty(&mut buffered, v)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(buffered))
            .and_then(|()| buffered.flush());
        drop(buffered);
        self.settle(written);
    }

    /// A message for the person running the command (standard error).
    pub fn say(&mut self, text: &str) {
        let _ = self.stderr.write_all(text.as_bytes());
        let _ = self.stderr.flush();
    }

    /// `apigw-tracing: <message>` on standard error, one line.
    pub fn error(&mut self, message: &str) {
        self.say(&format!("apigw-tracing: {message}\n"));
    }

    fn settle(&mut self, written: std::io::Result<()>) {
        match written {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.closed = true,
            Err(e) => {
                self.closed = true;
                self.error(&format!("cannot write the output: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that has gone away.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_reader_ends_the_output_quietly_and_other_errors_are_said_once() {
        let (mut stdout, mut stderr) = (Closed, Vec::new());
        {
            let mut out = Output::new(&mut stdout, &mut stderr);
            out.emit(b"table");
            out.json(&serde_json::json!({"a": 1}));
        }
        assert!(stderr.is_empty(), "{}", String::from_utf8_lossy(&stderr));

        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (mut stdout, mut stderr) = (Full, Vec::new());
        {
            let mut out = Output::new(&mut stdout, &mut stderr);
            out.emit(b"a");
            out.emit(b"b");
        }
        let said = String::from_utf8(stderr).unwrap();
        assert_eq!(said, "apigw-tracing: cannot write the output: disk full\n");
        assert_eq!(std::process::ExitCode::from(ExitStatus::Findings), 3.into());
    }
}
