//! Starting `exp serve-env` for a test: on a free port of 127.0.0.1, from the workspace root,
//! killed when dropped.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The workspace root (configs and seeds are relative to it).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

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
    let mut child = Command::new(env!("CARGO_BIN_EXE_exp"))
        .arg("serve-env")
        .args(args)
        .args(["--port", "0", "--host", "127.0.0.1"])
        .current_dir(workspace_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn exp");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_default();
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
