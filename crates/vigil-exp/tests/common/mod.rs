//! The `exp` binary as every CLI test runs it: one builder and one captured result instead of a
//! runner per test file.
#![allow(dead_code, unreachable_pub)] // each test binary uses its own part of this module

use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The workspace root: configs and seed paths in the tests are relative to it.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// `exp`, started in the workspace root; add arguments and environment, then [`Capture::capture`]
/// (or `spawn` it for a server).
pub fn exp() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_exp"));
    c.current_dir(root());
    c
}

/// `exp ARGS` in the workspace root, run to completion.
pub fn run(args: &[&str]) -> Run {
    exp().args(args).capture()
}

/// The first line of a child's `stream` that `wanted` accepts; `None` when the stream ends or
/// `timeout` passes first. Reading stops at that line.
pub fn first_line(
    stream: impl Read + Send + 'static,
    timeout: Duration,
    wanted: fn(&str) -> bool,
) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let line = BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
            .find(|l| wanted(l));
        let _ = tx.send(line);
    });
    rx.recv_timeout(timeout).ok().flatten()
}

/// What a finished `exp` said.
#[derive(Debug)]
pub struct Run {
    /// Exit code; -1 when a signal ended it.
    pub code: i32,
    /// Stdout, lossily decoded.
    pub stdout: String,
    /// Stderr, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// `(code, stdout, stderr)`.
    pub fn parts(self) -> (i32, String, String) {
        (self.code, self.stdout, self.stderr)
    }

    /// Whether it exited with 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// Stdout, after asserting that it exited with 0.
    pub fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "exp failed; stderr:\n{}\nstdout:\n{}",
            self.stderr, self.stdout
        );
        self.stdout
    }

    /// Stdout parsed as JSON, after asserting that it exited with 0.
    pub fn json(self) -> Value {
        let out = self.ok();
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}"))
    }
}

/// Runs a command to completion with its output captured.
pub trait Capture {
    /// Spawns, waits and decodes.
    fn capture(&mut self) -> Run;

    /// The same, with `input` written to its stdin.
    fn feed(&mut self, input: &str) -> Run;
}

impl Capture for Command {
    fn capture(&mut self) -> Run {
        decode(self.output().expect("spawn exp"))
    }

    fn feed(&mut self, input: &str) -> Run {
        let mut child = self
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn exp");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        decode(child.wait_with_output().expect("wait for exp"))
    }
}

fn decode(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A Python from a venv that the test needs (`.ci/run` makes it under `target/`): `var` when set,
/// else `target/<venv>/bin/python`, if it can run `import`; otherwise the test is skipped with a
/// note naming `package` (a failure when `CI` is set).
pub fn venv_python(test: &str, var: &str, venv: &str, import: &str, package: &str) -> Option<PathBuf> {
    let py = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| root().join(format!("target/{venv}/bin/python")), PathBuf::from);
    let ok = Command::new(&py)
        .args(["-c", import])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    vigil_testkit::peer::skip(
        test,
        &format!(
            "no Python with {package} at {} (python3 -m venv target/{venv} && \
             target/{venv}/bin/pip install {package}, or set {var})",
            py.display()
        ),
    )
}
