//! TensorBoard events of a short `exp run`, read back with the `tensorboard` package's own
//! reader (`EventAccumulator`): every named scalar at every step, equal to `metrics.jsonl`.
//!
//! Needs a Python with `tensorboard` (`.ci/run` makes `target/tb-venv`; or set
//! `VIGIL_TENSORBOARD_PYTHON`): skipped with a note without one, a failure when `CI` is set.

mod common;
mod training;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use training::{metrics, ok, tiny_config};

/// The venv's Python when it can import tensorboard's event reader.
fn python() -> Option<PathBuf> {
    common::venv_python(
        "train_tensorboard",
        "VIGIL_TENSORBOARD_PYTHON",
        "tb-venv",
        READER_IMPORT,
        "tensorboard",
    )
}

const READER_IMPORT: &str =
    "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator";

/// `{tag: [[step, value], ...]}` of every scalar in `dir`, as TensorBoard reads them.
fn read_scalars(py: &Path, dir: &Path) -> BTreeMap<String, Vec<(u64, f64)>> {
    let script = format!(
        "{READER_IMPORT}\nimport json, sys\n\
         ea = EventAccumulator(sys.argv[1], size_guidance={{'scalars': 0}})\nea.Reload()\n\
         print(json.dumps({{t: [[e.step, e.value] for e in ea.Scalars(t)] for t in ea.Tags()['scalars']}}))"
    );
    let out = Command::new(py)
        .args(["-c", &script])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "event reader failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn exp_run_writes_trl_named_scalars_at_every_step() {
    let Some(py) = python() else { return };
    let d = tempfile::tempdir().unwrap();
    let cfg = tiny_config(d.path(), 3, "finetune = { kind = \"full\" }");
    let run = d.path().join("run");
    ok(&["run", cfg.to_str().unwrap(), "--out", run.to_str().unwrap()]);
    let files: Vec<_> = std::fs::read_dir(run.join("tb")).unwrap().collect();
    assert_eq!(files.len(), 1, "one event file: {files:?}");
    let scalars = read_scalars(&py, &run.join("tb"));
    let lines = metrics(&run);
    let rl: Vec<&serde_json::Value> = lines.iter().filter(|l| l["phase"] == "rl").collect();
    assert_eq!(rl.len(), 3);
    let mut named = vec![
        "reward",
        "reward_std",
        "frac_reward_zero_std",
        "kl",
        "clip_ratio/region_mean",
        "clip_ratio/low_mean",
        "clip_ratio/high_mean",
        "entropy",
        "completions/mean_length",
        "completions/clipped_ratio",
        "loss",
        "grad_norm",
        "learning_rate",
        "advantages/mean",
        "timing/rollout_s",
        "timing/update_s",
    ]
    .into_iter()
    .map(str::to_string)
    .collect::<Vec<_>>();
    for c in rl[0]["components"].as_array().unwrap() {
        let n = c["name"].as_str().unwrap();
        for s in ["mean", "std", "frac_zero_std"] {
            named.push(format!("rewards/{n}/{s}"));
        }
        named.push(format!("advantages/{n}/std"));
    }
    for h in rl[0]["hacking"].as_array().unwrap() {
        named.push(format!("vigil/hacking/{}", h["name"].as_str().unwrap()));
    }
    for tag in &named {
        let steps: Vec<u64> = scalars
            .get(tag)
            .unwrap_or_else(|| panic!("no scalar `{tag}`; have {:?}", scalars.keys()))
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(steps, [1, 2, 3], "{tag}");
    }
    // Values are the metrics.jsonl numbers (stored as 32-bit floats).
    let f32_eq =
        |a: f64, b: &serde_json::Value| (a - b.as_f64().unwrap() as f32 as f64).abs() < 1e-9;
    for (i, l) in rl.iter().enumerate() {
        assert!(f32_eq(scalars["reward"][i].1, &l["reward"]["mean"]));
        assert!(f32_eq(scalars["learning_rate"][i].1, &l["lr"]));
        assert!(f32_eq(scalars["loss"][i].1, &l["loss"]));
        assert!(f32_eq(
            scalars["frac_reward_zero_std"][i].1,
            &l["frac_reward_zero_std"]
        ));
    }
    // Component correlations: logged at exactly the steps where they are defined.
    for c in rl[0]["component_corr"].as_array().unwrap() {
        let tag = format!("vigil/corr/{}__{}", c["a"].as_str().unwrap(), c["b"].as_str().unwrap());
        let want: Vec<u64> = rl
            .iter()
            .filter(|l| l["component_corr"].as_array().unwrap().iter().any(|x| x["a"] == c["a"] && x["b"] == c["b"] && !x["r"].is_null()))
            .map(|l| l["step"].as_u64().unwrap())
            .collect();
        let got: Vec<u64> = scalars.get(&tag).map(|v| v.iter().map(|p| p.0).collect()).unwrap_or_default();
        assert_eq!(got, want, "{tag}");
    }
    // The SFT warm-start's single step has its own counter.
    assert_eq!(
        scalars["sft/loss"].iter().map(|p| p.0).collect::<Vec<_>>(),
        [1]
    );
}
