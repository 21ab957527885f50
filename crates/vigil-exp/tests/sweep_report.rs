//! `exp sweep` and `exp report` end to end on the evaluation-only study
//! `experiments/scripted-baselines-opensec/cpu.toml` (3 scripted policies × 3 seeds) with a small
//! hold-out: kill and resume, a second invocation that does no work, the Slurm script, and report
//! tables checked number by number against the run folders.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::root;
use serde_json::Value;

const CONFIG: &str = "experiments/scripted-baselines-opensec/cpu.toml";
const POINTS: usize = 9;

/// `exp` with warnings only on stderr.
fn exp() -> Command {
    let mut c = common::exp();
    c.env("VIGIL_LOG", "warn");
    c
}

fn sweep(out: &Path, limit: usize, extra: &[&str]) -> Output {
    exp()
        .args(["sweep", CONFIG, "--out"])
        .arg(out)
        .args(["--set", &format!("eval.limit={limit}")])
        .args(extra)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    let (so, se) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{so}\nstderr:\n{se}",
        o.status
    );
    so.into_owned()
}

fn json(p: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

/// Point folders of a sweep (from its manifest).
fn points(dir: &Path) -> Vec<PathBuf> {
    json(&dir.join("sweep.json"))["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| dir.join(p.as_str().unwrap()))
        .collect()
}

fn record(p: &Path) -> Value {
    json(&p.join("sweep-point.json"))
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn killed_sweep_finishes_only_the_missing_points_and_a_rerun_does_nothing() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    // One worker and a longer hold-out so the sweep is still busy when it is killed.
    let mut child = exp()
        .args(["sweep", CONFIG, "--out"])
        .arg(&out)
        .args(["--set", "eval.limit=30", "--workers", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let start = Instant::now();
    let done = |out: &Path| -> Vec<PathBuf> {
        if !out.join("sweep.json").is_file() {
            return Vec::new();
        }
        points(out)
            .into_iter()
            .filter(|p| {
                std::fs::read_to_string(p.join("sweep-point.json"))
                    .is_ok_and(|s| s.contains("\"done\""))
            })
            .collect()
    };
    while done(&out).len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "sweep made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Kill the whole process group (the sweep and its running `exp run`), as Ctrl-C or scancel would.
    let pg = format!("-{}", child.id());
    assert!(
        Command::new("kill")
            .args(["-KILL", "--", &pg])
            .status()
            .unwrap()
            .success()
    );
    child.wait().unwrap();
    let before: BTreeMap<PathBuf, SystemTime> = done(&out)
        .into_iter()
        .map(|p| {
            let t = mtime(&p.join("eval/comparison.json"));
            (p, t)
        })
        .collect();
    assert!(
        before.len() >= 2 && before.len() < POINTS,
        "killed after {} of {POINTS} points",
        before.len()
    );

    let so = ok(&sweep(&out, 30, &["--workers", "2"]));
    assert!(so.contains(&format!("{POINTS} points: ")), "{so}");
    let all = points(&out);
    assert_eq!(all.len(), POINTS);
    for p in &all {
        let r = record(p);
        assert_eq!(r["status"], "done", "{}", p.display());
        if let Some(t) = before.get(p) {
            // Finished before the kill: not run again.
            assert_eq!(r["attempts"], 1, "{}", p.display());
            assert_eq!(
                mtime(&p.join("eval/comparison.json")),
                *t,
                "{} was rerun",
                p.display()
            );
        }
    }
    let attempts: Vec<Value> = all.iter().map(|p| record(p)["attempts"].clone()).collect();
    let stamps: Vec<SystemTime> = all
        .iter()
        .map(|p| mtime(&p.join("eval/comparison.json")))
        .collect();

    // A second invocation does no work.
    let so = ok(&sweep(&out, 30, &[]));
    assert!(
        so.contains(&format!(
            "{POINTS} points: {POINTS} already finished, 0 finished now, 0 failed"
        )),
        "{so}"
    );
    assert_eq!(
        attempts,
        all.iter()
            .map(|p| record(p)["attempts"].clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        stamps,
        all.iter()
            .map(|p| mtime(&p.join("eval/comparison.json")))
            .collect::<Vec<_>>()
    );

    // A changed base config is a different run: the old folder moves aside, the point reruns.
    let so = ok(&sweep(&out, 29, &["--workers", "2"]));
    assert!(so.contains("0 already finished, 9 finished now"), "{so}");
    assert_eq!(
        std::fs::read_dir(out.join(".stale")).unwrap().count(),
        POINTS
    );
}

#[test]
fn report_tables_match_the_run_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    let so = ok(&sweep(&out, 6, &["--workers", "2"]));
    assert!(
        so.contains("0 already finished, 9 finished now, 0 failed"),
        "{so}"
    );

    // The sweep's results table: one row per point, numbers from the point's summary.
    let results = json(&out.join("results.json"));
    let rows = results["rows"].as_array().unwrap();
    assert_eq!(rows.len(), POINTS);
    for row in rows {
        let dir = out.join(row["point"].as_str().unwrap());
        let policy = row["policy"].as_str().unwrap();
        assert_eq!(Some(policy), row["set.policy.baseline"].as_str());
        let s = json(&dir.join("eval").join(policy).join("summary.json"));
        assert_eq!(row["total"], s["summary"]["overall"]["total"]["mean"]);
        assert_eq!(row["status"], "done");
    }

    let rep = tmp.path().join("report");
    let paper = tmp.path().join("paper");
    std::fs::create_dir_all(&paper).unwrap();
    std::fs::write(
        paper.join("paper.md"),
        "# P\n<!-- vigil:include sweep/tables/opensec.md -->\n<!-- /vigil:include -->\n",
    )
    .unwrap();
    let so = ok(&exp()
        .args(["report"])
        .arg(&out)
        .arg("--out")
        .arg(&rep)
        .args(["--resamples", "400", "--paper"])
        .arg(&paper)
        .output()
        .unwrap());
    assert!(so.contains("report `sweep`"), "{so}");
    let tables = rep.join("tables");

    // Every run × policy row equals that policy's summary.json.
    let runs = json(&tables.join("runs.json"));
    let runs = runs["rows"].as_array().unwrap();
    assert_eq!(
        runs.len(),
        POINTS * 3,
        "each run has its policy and two baselines"
    );
    for r in runs {
        let s = json(
            &out.join(r["run"].as_str().unwrap())
                .join("eval")
                .join(r["policy"].as_str().unwrap())
                .join("summary.json"),
        );
        let o = &s["summary"]["overall"];
        assert_eq!(r["total"], o["total"]["mean"]);
        assert_eq!(r["episodes"], o["episodes"]);
        assert_eq!(r["format_valid"], o["format_valid_rate"]);
        for c in o["rewards"].as_array().unwrap() {
            assert_eq!(
                r[format!("reward.{}", c["name"].as_str().unwrap())],
                c["mean"]
            );
        }
    }

    // Variant means are the mean over the three seeds' runs, inside their bootstrap interval.
    let by_variant = |variant: &str, f: &dyn Fn(&Value) -> f64| -> Vec<f64> {
        let v = variant.trim_start_matches("policy.baseline=");
        points(&out)
            .iter()
            .filter(|p| record(p)["assignments"][0]["display"] == v)
            .map(|p| f(&json(&p.join("eval").join(v).join("summary.json"))["summary"]["overall"]))
            .collect()
    };
    let cmp = json(&tables.join("comparison.json"));
    let cmp = cmp["rows"].as_array().unwrap();
    assert_eq!(cmp.len(), 3);
    for row in cmp {
        let variant = row["variant"].as_str().unwrap();
        assert_eq!(row["seeds"], 3);
        let totals = by_variant(variant, &|o| o["total"]["mean"].as_f64().unwrap());
        let want = totals.iter().sum::<f64>() / 3.0;
        let ci = &row["total"];
        assert!(
            close(ci["estimate"].as_f64().unwrap(), want),
            "{variant}: {ci} vs {want}"
        );
        assert!(
            ci["lo"].as_f64().unwrap() <= want + 1e-12
                && want <= ci["hi"].as_f64().unwrap() + 1e-12
        );
        let fp = by_variant(variant, &|o| {
            o["metrics"]["false_positive"]["mean"].as_f64().unwrap()
        });
        assert!(close(
            row["false_positive"]["estimate"].as_f64().unwrap(),
            fp.iter().sum::<f64>() / 3.0
        ));
    }
    let paired = json(&tables.join("paired.json"));
    assert!(
        paired["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["n"] == 3 && r["unit"] == "seeds")
    );

    // The OpenSec frontier table: each variant's row averages its runs' episode metrics.
    let os = json(&tables.join("opensec.json"));
    let os = os["rows"].as_array().unwrap();
    for row in os.iter().filter(|r| {
        r["policy"]
            .as_str()
            .unwrap()
            .starts_with("policy.baseline=")
    }) {
        let v = row["policy"].as_str().unwrap();
        for k in [
            "containment_executed",
            "false_positive",
            "correct_containment",
            "injection_violation",
            "report_submitted",
        ] {
            let xs = by_variant(v, &|o| o["metrics"][k]["mean"].as_f64().unwrap());
            assert!(
                close(row[k].as_f64().unwrap(), xs.iter().sum::<f64>() / 3.0),
                "{v} {k}"
            );
        }
    }
    assert!(
        os.iter()
            .any(|r| r["policy"] == "baseline: oracle" && r["runs"] == 3)
    );
    let md = std::fs::read_to_string(tables.join("opensec.md")).unwrap();
    assert!(
        md.contains("| policy | runs | reward | containment executed | false positive rate |"),
        "{md}"
    );

    // Figures: real PNGs with text (labelled axes are drawn with the embedded font) and SVGs.
    for f in ["comparison", "opensec-frontier"] {
        let png = std::fs::read(rep.join("figures").join(format!("{f}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png.len() > 10_000, "{f}.png is {} bytes", png.len());
        let svg = std::fs::read_to_string(rep.join("figures").join(format!("{f}.svg"))).unwrap();
        assert!(svg.contains("<svg"));
    }
    let svg = std::fs::read_to_string(rep.join("figures/opensec-frontier.svg")).unwrap();
    assert!(
        svg.contains("false positive rate (episodes)")
            && svg.contains("correct containment rate (episodes)")
    );

    // --paper: the write-up's include block now holds the generated table.
    let p = std::fs::read_to_string(paper.join("paper.md")).unwrap();
    assert!(p.contains(&md), "{p}");
    assert!(paper.join("sweep/figures/comparison.png").is_file());
}

#[test]
fn slurm_backend_writes_a_valid_array_script() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    let so = ok(&sweep(&out, 2, &["--backend", "slurm", "--no-submit"]));
    assert!(so.contains("for 9 points (0 already finished)"), "{so}");
    let script = out.join("slurm/array.sbatch");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("#SBATCH --array=0-8\n"), "{text}");
    assert_eq!(text.matches("/policy.baseline=").count(), POINTS, "{text}");
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Outside Slurm the script refuses to run rather than guessing a task.
    let run = Command::new("bash")
        .arg(&script)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("submit it with sbatch"));

    // An array task runs one point exactly as a local worker does.
    let first = points(&out).remove(0);
    ok(&exp()
        .args(["sweep", "--run-point"])
        .arg(&first)
        .output()
        .unwrap());
    assert_eq!(record(&first)["status"], "done");
    let so = ok(&sweep(&out, 2, &["--backend", "slurm", "--no-submit"]));
    assert!(so.contains("for 8 points (1 already finished)"), "{so}");
    assert!(
        std::fs::read_to_string(&script)
            .unwrap()
            .contains("#SBATCH --array=0-7\n")
    );
    let so = ok(&sweep(&out, 2, &["--collect"]));
    assert!(so.contains("1 done") && so.contains("8 pending"), "{so}");
}

#[test]
fn bad_sweeps_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(root().join(CONFIG)).unwrap();
    let cases = [
        (
            "[sweep.zip]\na = [1, 2]\nb = [1]\n",
            "zip axes must have equal lengths",
        ),
        (
            "[sweep.grid]\n\"eval.bogus\" = [1]\n",
            "unknown field `bogus`",
        ),
        ("[sweep.grid]\nname = [\"x\"]\n", "set by the sweep itself"),
    ];
    for (i, (extra, want)) in cases.iter().enumerate() {
        let text = base.split("[sweep]").next().unwrap().to_string() + "[sweep]\n" + extra;
        let cfg = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&cfg, text).unwrap();
        let o = exp()
            .arg("sweep")
            .arg(&cfg)
            .arg("--out")
            .arg(tmp.path().join("o"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(want), "case {i}: {err}");
        assert!(
            err.contains(&format!("bad{i}.toml")) || err.contains("sweep point"),
            "case {i}: {err}"
        );
    }
}
