//! Starting `exp serve-env` for a test: on a free port of 127.0.0.1, from the workspace root,
//! killed when dropped.

#![allow(dead_code, unreachable_pub)]

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A running `exp serve-env`, killed on drop.
#[derive(Debug)]
pub struct ServeEnv {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for ServeEnv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `exp serve-env ARGS --port 0 --host 127.0.0.1`, once it prints the address it listens on.
pub fn start(args: &[&str]) -> ServeEnv {
    let mut child = crate::common::exp()
        .arg("serve-env")
        .args(args)
        .args(["--port", "0", "--host", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn exp");
    let stdout = child.stdout.take().expect("stdout");
    let line =
        crate::common::first_line(stdout, Duration::from_secs(120), |_| true).unwrap_or_default();
    let Some(base) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
        let _ = child.kill();
        let mut err = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
        panic!("exp serve-env {args:?} did not start: stdout {line:?}, stderr {err}");
    };
    ServeEnv {
        base: base.to_string(),
        child,
    }
}
