//! `exp data cert …`: the CERT r4.2 data tools.
//!
//! - `synth --users N --days D --out DIR`: a synthetic dataset in the r4.2 layout (five activity
//!   CSVs, LDAP, psychometric, answer key) plus `synth_manifest.json`.
//! - `windows --data DIR --out DIR`: user/day windows and the balanced `train_balanced_*` /
//!   `dev_balanced_*` JSONL splits (plus `splits.json`, `build_summary.json`); `--all FILE`
//!   also streams every window to one JSONL file.
//! - `bench --data DIR`: single-threaded ingest rate (events/s, MB/s) and window-building rate,
//!   with the process's peak RSS; run it under `/usr/bin/time -v` for an outside view.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use vigil_env_cert::bench::{ingest, peak_rss_bytes, thread_cpu_seconds};
use vigil_env_cert::labels::{LabelConfig, MaliciousRule};
use vigil_env_cert::rows::BadRowPolicy;
use vigil_env_cert::source::{DataSource, FsSource};
use vigil_env_cert::split::{SplitBuilder, SplitConfig};
use vigil_env_cert::synth::{SynthConfig, generate_to_dir};
use vigil_env_cert::window::{CapPolicy, WindowConfig};
use vigil_env_cert::{CertConfig, Dataset};

/// `exp data cert …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CertCommand {
    /// Generate a synthetic dataset with r4.2's files and columns.
    Synth(SynthArgs),
    /// Build user/day windows and the balanced train/dev splits.
    Windows(WindowsArgs),
    /// Measure ingest and window-building rates on one thread.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SynthArgs {
    /// Employees.
    #[arg(long, default_value_t = 40)]
    users: u32,
    /// Calendar days.
    #[arg(long, default_value_t = 60)]
    days: u32,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Web/mail volume multiplier (1 ≈ r4.2's events per user-day).
    #[arg(long, default_value_t = 1.0)]
    activity: f64,
    /// Share of insiders (split 3:3:1 over scenarios 1–3).
    #[arg(long, default_value_t = 0.07)]
    insider_fraction: f64,
    /// First day (ISO).
    #[arg(long, default_value = "2010-01-04")]
    start: String,
}

#[derive(Debug, Args)]
pub(crate) struct WindowsArgs {
    /// Dataset directory in the r4.2 layout.
    #[arg(long)]
    data: PathBuf,
    /// Answer-key directory (default `<data>/answers`).
    #[arg(long)]
    answers: Option<PathBuf>,
    /// Release whose insiders to use.
    #[arg(long, default_value = "4.2")]
    release: String,
    /// Output directory for the split files.
    #[arg(long)]
    out: PathBuf,
    /// A TOML file with a CERT `[env]` body (window, labels, split sections); flags override it.
    #[arg(long)]
    env: Option<PathBuf>,
    /// Split seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Train windows per class.
    #[arg(long)]
    train_per_class: Option<usize>,
    /// Eval windows per class.
    #[arg(long)]
    eval_per_class: Option<usize>,
    /// Most events shown per window.
    #[arg(long)]
    max_events: Option<usize>,
    /// Count and skip bad rows instead of stopping at the first.
    #[arg(long)]
    skip_bad_rows: bool,
    /// Label every day of an insider's [start, end] malicious (default: answer-key days only).
    #[arg(long)]
    insider_range: bool,
    /// Also write every window to this JSONL file.
    #[arg(long)]
    all: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Dataset directory in the r4.2 layout.
    #[arg(long)]
    data: PathBuf,
    /// Also build windows (needs the answer key) and report that rate.
    #[arg(long)]
    windows: bool,
}

pub(crate) fn run(cmd: &CertCommand) -> anyhow::Result<()> {
    match cmd {
        CertCommand::Synth(a) => synth(a),
        CertCommand::Windows(a) => windows(a),
        CertCommand::Bench(a) => bench(a),
    }
}

#[allow(clippy::print_stdout)]
fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn spinner(msg: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn synth(a: &SynthArgs) -> anyhow::Result<()> {
    let cfg = SynthConfig {
        users: a.users,
        days: a.days,
        seed: a.seed,
        activity: a.activity,
        insider_fraction: a.insider_fraction,
        start: a.start.clone(),
        ..SynthConfig::default()
    };
    cfg.validate()?;
    let bar = spinner(&format!("generating {} users × {} days", a.users, a.days));
    let m =
        generate_to_dir(&cfg, &a.out).with_context(|| format!("writing {}", a.out.display()))?;
    bar.finish_and_clear();
    print_json(&json!({ "out": a.out, "manifest": m }))
}

fn env_body(path: &Path) -> anyhow::Result<CertConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: invalid CERT config", path.display()))
}

fn windows(a: &WindowsArgs) -> anyhow::Result<()> {
    let base = match &a.env {
        Some(p) => env_body(p)?,
        None => CertConfig::default(),
    };
    let mut window: WindowConfig = base.window;
    let mut split: SplitConfig = base.split;
    let mut labels: LabelConfig = base.labels;
    if let Some(n) = a.max_events {
        window.max_events = n;
    }
    if a.skip_bad_rows {
        window.bad_rows = BadRowPolicy::Skip;
    }
    if a.insider_range {
        labels.malicious = MaliciousRule::InsiderRange;
    }
    if let Some(s) = a.seed {
        split.seed = s;
    }
    if let Some(n) = a.train_per_class {
        split.train_per_class = n;
    }
    if let Some(n) = a.eval_per_class {
        split.eval_per_class = n;
    }
    window.validate()?;
    split.validate()?;
    let src: Arc<dyn DataSource> = Arc::new(FsSource::new(&a.data, a.answers.clone()));
    let ds = Dataset::open(src, &a.release, labels).context("opening the dataset")?;
    let mut builder = SplitBuilder::new(split)?;
    let mut all = match &a.all {
        Some(p) => Some(AllWriter::create(p)?),
        None => None,
    };
    let bar = spinner("building windows");
    let mut n = 0u64;
    let summary = ds.windows(&window, |v| {
        builder.offer(v);
        if let Some(w) = all.as_mut() {
            w.write(&v.to_window())?;
        }
        n += 1;
        if n % 1000 == 0 {
            bar.set_message(format!("building windows: {n} ({})", v.day.iso()));
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    if let Some(w) = all {
        w.finish()?;
    }
    let splits = builder.finish()?;
    splits.write(&a.out)?;
    let p = a.out.join("build_summary.json");
    vigil_core::write_json_atomic(&p, &summary)
        .with_context(|| format!("writing {}", p.display()))?;
    print_json(&json!({ "out": a.out, "splits": splits.manifest, "build": summary }))
}

/// Streams windows to `<file>.partial`, renamed into place when complete.
struct AllWriter {
    tmp: PathBuf,
    dst: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl AllWriter {
    fn create(dst: &Path) -> anyhow::Result<Self> {
        let tmp = dst.with_extension("jsonl.partial");
        if let Some(d) = dst.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d)?;
        }
        let f =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        Ok(Self {
            tmp,
            dst: dst.to_path_buf(),
            out: std::io::BufWriter::new(f),
        })
    }

    fn write(
        &mut self,
        w: &vigil_env_cert::record::Window,
    ) -> Result<(), vigil_env_cert::CertError> {
        let io = |e| vigil_env_cert::CertError::io(&self.tmp, e);
        serde_json::to_writer(&mut self.out, w).map_err(|e| io(e.into()))?;
        self.out.write_all(b"\n").map_err(io)
    }

    fn finish(self) -> anyhow::Result<()> {
        let f = self.out.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&self.tmp, &self.dst)
            .with_context(|| format!("writing {}", self.dst.display()))?;
        Ok(())
    }
}

fn bench(a: &BenchArgs) -> anyhow::Result<()> {
    let src = FsSource::new(&a.data, None);
    let kinds = vigil_env_cert::types::SourceKind::ALL;
    let st = ingest(&src, &kinds).context("ingest")?;
    let ingest_rss = peak_rss_bytes();
    let mut out = json!({
        "data": a.data,
        "ingest": {
            "events": st.events,
            "bytes": st.bytes,
            "seconds": st.seconds,
            "events_per_sec": st.events_per_sec(),
            "mb_per_sec": st.mb_per_sec(),
            "cpu_seconds": st.cpu_seconds,
            "events_per_cpu_sec": st.events_per_cpu_sec(),
            "checksum": st.checksum,
        },
        "peak_rss_bytes_after_ingest": ingest_rss,
    });
    if a.windows {
        let ds = Dataset::open(Arc::new(src), "4.2", LabelConfig::default())?;
        let cfg = WindowConfig {
            cap: CapPolicy::Spread,
            ..WindowConfig::default()
        };
        let t = Instant::now();
        let cpu0 = thread_cpu_seconds();
        let summary = ds.windows(&cfg, |_| Ok(()))?;
        let secs = t.elapsed().as_secs_f64();
        let cpu = thread_cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
        out["windows"] = json!({
            "windows": summary.windows,
            "events": summary.events,
            "seconds": secs,
            "windows_per_sec": summary.windows as f64 / secs.max(1e-9),
            "events_per_sec": summary.events as f64 / secs.max(1e-9),
            "cpu_seconds": cpu,
            "windows_per_cpu_sec": cpu.map(|c| summary.windows as f64 / c.max(1e-9)),
            "events_per_cpu_sec": cpu.map(|c| summary.events as f64 / c.max(1e-9)),
            "labels": summary.labels,
        });
        out["peak_rss_bytes"] = json!(peak_rss_bytes());
    }
    print_json(&out)
}
