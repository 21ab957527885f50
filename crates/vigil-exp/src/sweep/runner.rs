//! Running points: one `exp run` subprocess per point (the same binary), resumed from its
//! checkpoints when it trains and has some, its output in `run.log`, its fate in
//! `sweep-point.json`. The local backend runs N of them at once; Slurm array tasks run one each.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use vigil_report::point::{FINISHED_FILE, PointRecord, PointStatus};

use super::plan::{POINT_CONFIG, Planned};

/// The log of every attempt of a point, inside its folder.
pub(crate) const LOG: &str = "run.log";
/// Holds the pid of a point's running `exp run`.
const RUNNING: &str = ".running";

/// Whether `pid` is a live process whose command line mentions `needle` (Linux `/proc`).
fn alive(pid: u32, needle: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
}

/// The last non-empty line of a point's log (the `error: …` line of a failed `exp run`).
fn last_line(log: &Path) -> String {
    std::fs::read_to_string(log)
        .ok()
        .and_then(|t| {
            t.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "no output".into())
}

/// Runs the point in `dir` to completion with `exp` (this binary): `exp run point.toml --out
/// dir`, or `exp run --resume dir` when a training run left a checkpoint. Returns whether the
/// point finished.
pub(crate) fn run_point(exp: &Path, dir: &Path) -> anyhow::Result<bool> {
    let mut rec = PointRecord::read(dir)?.with_context(|| {
        format!(
            "{} is not a sweep point (no sweep-point.json)",
            dir.display()
        )
    })?;
    let running = dir.join(RUNNING);
    let dir_text = dir.display().to_string();
    if let Some(pid) = std::fs::read_to_string(&running)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
    {
        if alive(pid, &dir_text) {
            anyhow::bail!(
                "point `{}` is still being run by pid {pid} (an earlier sweep); not touched",
                rec.label
            );
        }
    }
    if dir.join(FINISHED_FILE).is_file() && rec.status == PointStatus::Done {
        return Ok(true);
    }
    let resume = dir.join("checkpoints").join("latest").is_file();
    let args: Vec<String> = if resume {
        vec!["run".into(), "--resume".into(), dir_text.clone()]
    } else {
        vec![
            "run".into(),
            dir.join(POINT_CONFIG).display().to_string(),
            "--out".into(),
            dir_text.clone(),
        ]
    };
    rec.status = PointStatus::Running;
    rec.attempts += 1;
    rec.error = None;
    rec.exit_code = None;
    rec.write(dir)?;
    let log_path = dir.join(LOG);
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    writeln!(
        log,
        "== attempt {}: exp {} ==",
        rec.attempts,
        args.join(" ")
    )?;
    let child = Command::new(exp)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .spawn()
        .with_context(|| format!("starting {}", exp.display()));
    let status = match child {
        Ok(mut c) => {
            vigil_core::write_atomic(&running, c.id().to_string().as_bytes())?;
            let s = c.wait();
            let _ = std::fs::remove_file(&running);
            s.map_err(anyhow::Error::from)
        }
        Err(e) => Err(e),
    };
    let finished = dir.join(FINISHED_FILE).is_file();
    match status {
        Ok(s) if s.success() && finished => {
            rec.status = PointStatus::Done;
            rec.exit_code = Some(0);
        }
        Ok(s) => {
            rec.status = PointStatus::Failed;
            rec.exit_code = s.code();
            rec.error = Some(if s.success() {
                format!("exited 0 without writing {FINISHED_FILE}")
            } else {
                last_line(&log_path)
            });
        }
        Err(e) => {
            rec.status = PointStatus::Failed;
            rec.error = Some(format!("{e:#}"));
        }
    }
    rec.write(dir)?;
    Ok(rec.status == PointStatus::Done)
}

/// Outcome counts of a local run.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    /// Finished now.
    pub done: usize,
    /// Failed now.
    pub failed: usize,
}

/// Runs `todo` with `workers` parallel subprocesses; failures are recorded, never fatal.
pub(crate) fn run_local(exp: &Path, todo: &[&Planned], workers: usize) -> Tally {
    let queue: Mutex<VecDeque<&Planned>> = Mutex::new(todo.iter().copied().collect());
    let tally = Mutex::new(Tally::default());
    let bar = ProgressBar::new(todo.len() as u64).with_style(
        ProgressStyle::with_template("points [{bar:30}] {pos}/{len} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    std::thread::scope(|s| {
        for _ in 0..workers.max(1).min(todo.len().max(1)) {
            s.spawn(|| {
                loop {
                    let Some(p) = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None) else {
                        break;
                    };
                    let ok = match run_point(exp, &p.dir) {
                        Ok(ok) => ok,
                        Err(e) => {
                            record_failure(&p.dir, &e);
                            false
                        }
                    };
                    if let Ok(mut t) = tally.lock() {
                        if ok {
                            t.done += 1
                        } else {
                            t.failed += 1
                        }
                        bar.set_message(format!(
                            "{} done, {} failed; last: {} {}",
                            t.done,
                            t.failed,
                            p.point.label,
                            if ok { "ok" } else { "FAILED" }
                        ));
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    tally.into_inner().unwrap_or_default()
}

/// Records an error that kept a point from even starting.
pub(crate) fn record_failure(dir: &Path, e: &anyhow::Error) {
    tracing::error!(point = %dir.display(), "{e:#}");
    if let Ok(Some(mut rec)) = PointRecord::read(dir) {
        rec.status = PointStatus::Failed;
        rec.error = Some(format!("{e:#}"));
        let _ = rec.write(dir);
    }
}

/// Default local workers: the machine's cores.
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// An exclusive lock on a sweep folder, released on drop. A lock left by a dead sweep (killed)
/// is taken over.
#[derive(Debug)]
pub(crate) struct SweepLock(PathBuf);

impl SweepLock {
    pub(crate) fn take(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(".sweep.lock");
        if let Some(pid) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            if pid != std::process::id() && alive(pid, "sweep") {
                anyhow::bail!(
                    "another `exp sweep` (pid {pid}) is running in {}; wait for it or stop it first",
                    dir.display()
                );
            }
        }
        vigil_core::write_atomic(&path, std::process::id().to_string().as_bytes())?;
        Ok(Self(path))
    }
}

impl Drop for SweepLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
