//! Reports over run folders written here with the schema's own types, as `exp run` writes them
//! (`run.json`, `eval/<policy>/{summary.json,episodes.jsonl}`, the trainer's `metrics.jsonl`):
//! training curves, calibration from confidences, and the environment table built from a
//! fixture environment's declaration alone. Every checked number is recomputed from the
//! fixture's own outcomes.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use vigil_core::{ChatMessage, ComponentInfo, EnvMetrics, EpisodeRecord, MetricInfo, MetricSource, Outcome, Prediction, RewardVector, TaskId};
use vigil_metrics::calibration::{Binning, calibration};
use vigil_metrics::summary::EvalSummary;
use vigil_report::{ReportOptions, write_report};
use vigil_rewards::RewardsConfig;
use vigil_schema::metrics::{ComponentCorr, ComponentStat, HackingRate, MetricsLine, RlLine, Stat, Timing};
use vigil_schema::{PolicyRole, PolicySummary, RunEnv, RunInfo, files};

const CLASSES: [&str; 3] = ["dismiss", "monitor", "escalate"];

/// A deterministic outcome: correctness and confidence depend on `i` and `seed`.
fn outcome(i: usize, seed: u64, skill: f64) -> Outcome {
    let gold = CLASSES[i % 3];
    let right = ((i as f64 * 0.37 + seed as f64 * 0.11) % 1.0) < skill;
    let predicted = if right { gold } else { CLASSES[(i + 1) % 3] };
    let conf = 0.35 + 0.6 * ((i * 7 + seed as usize) % 10) as f64 / 10.0;
    let mut metrics = BTreeMap::new();
    if gold != "dismiss" {
        metrics.insert("dismiss_on_malicious".to_string(), if predicted == "dismiss" { 1.0 } else { 0.0 });
    } else {
        metrics.insert("over_react".to_string(), if predicted == "escalate" { 1.0 } else { 0.0 });
    }
    Outcome {
        rewards: RewardVector::from_pairs([("correctness", if right { 1.0 } else { -1.0 }), ("format", 0.5)]),
        format_valid: i % 5 != 0,
        metrics,
        prediction: Some(Prediction { predicted: Some(predicted.into()), gold: gold.into(), confidence: Some(conf) }),
        steps: 1,
    }
}

/// The fixture environment's name: reports know it only from `run.json`.
const ENV: &str = "fixture-triage";

/// The fixture environment as `run.json` declares it.
fn run_env() -> RunEnv {
    RunEnv {
        name: ENV.into(),
        components: ["correctness", "format"].iter().map(|n| ComponentInfo::new(*n, -1.0, 1.0, "")).collect(),
        label_classes: Some(CLASSES.iter().map(|s| s.to_string()).collect()),
        metrics: EnvMetrics {
            title: "Fixture triage".into(),
            metrics: vec![
                MetricInfo::new("accuracy", "Accuracy", MetricSource::Accuracy).headline(),
                MetricInfo::new("dismiss_on_malicious", "Dismiss-on-malicious", MetricSource::Episode).headline(),
                MetricInfo::new("over_react", "Over-react", MetricSource::Episode),
            ],
            frontier: None,
            notes: Vec::new(),
        },
    }
}

/// Writes one run folder with the schema's own types; returns its outcomes.
fn write_run(dir: &Path, name: &str, seed: u64, skill: f64, steps: usize) -> Vec<Outcome> {
    std::fs::create_dir_all(dir.join("eval/grpo")).unwrap();
    let rewards = RewardsConfig { weights: [("correctness".to_string(), 1.0), ("format".to_string(), 1.0)].into(), gates: Vec::new() };
    let info = RunInfo { name: name.into(), seed, env: run_env(), rewards, baselines: Vec::new() };
    std::fs::write(dir.join(files::RUN_INFO), serde_json::to_string(&info).unwrap()).unwrap();
    let outs: Vec<Outcome> = (0..40).map(|i| outcome(i, seed, skill)).collect();
    let classes: Vec<String> = CLASSES.iter().map(|s| s.to_string()).collect();
    let pairs: Vec<(Option<String>, &Outcome)> = outs.iter().map(|o| (None, o)).collect();
    let summary = EvalSummary::of(&pairs, &info.reward_set().unwrap(), Some(&classes)).unwrap().unwrap();
    let file = PolicySummary { policy: "grpo".into(), role: PolicyRole::Trained, summary, env_summary: Default::default() };
    std::fs::write(dir.join("eval/grpo").join(files::SUMMARY), serde_json::to_string(&file).unwrap()).unwrap();
    let mut lines = String::new();
    for (i, o) in outs.iter().enumerate() {
        let r = EpisodeRecord { task: TaskId::new(format!("t{i}")), seed: i as u64, transcript: vec![ChatMessage::user("x")], generations: Vec::new(), outcome: o.clone() };
        lines.push_str(&serde_json::to_string(&r).unwrap());
        lines.push('\n');
    }
    std::fs::write(dir.join("eval/grpo").join(files::EPISODES), lines).unwrap();
    std::fs::write(dir.join(files::FINISHED), serde_json::to_string(&[file]).unwrap()).unwrap();
    let mut m = String::new();
    for s in 1..=steps {
        let r = -1.0 + skill * s as f64 / steps as f64 + seed as f64 * 0.01;
        let stat = |mean: f64, std: f64| Stat { mean, std, min: mean, max: mean };
        let line = MetricsLine::Rl(RlLine {
            step: s as u64,
            stage: "all".into(),
            lr: 1e-3,
            reward: stat(r, 0.5),
            reward_group_std: 0.5,
            frac_reward_zero_std: 0.0,
            frac_zero_advantage: 0.0,
            components: vec![
                ComponentStat { name: "correctness".into(), stat: stat(r, 0.5), frac_zero_std: 0.0, advantage: None },
                ComponentStat { name: "format".into(), stat: stat(0.5, 0.0), frac_zero_std: 1.0, advantage: None },
            ],
            component_corr: vec![ComponentCorr { a: "correctness".into(), b: "format".into(), r: Some(0.1 * s as f64 / steps as f64) }],
            hacking: vec![HackingRate { name: "cite_spam".into(), rate: 0.5 * s as f64 / steps as f64 }],
            advantage: Stat::default(),
            loss: 1.0 / s as f64,
            kl: 0.0,
            clip_frac: 0.0,
            clip_low_frac: 0.0,
            ratio_mean: 1.0,
            entropy: 1.5,
            grad_norm: 1.0,
            completion_tokens: Stat::default(),
            turns: Stat::default(),
            truncated_frac: 0.0,
            format_valid_rate: 0.8,
            groups_sampled: 2,
            groups_kept: 2,
            logprob_gap: 0.0,
            rollout_tokens: 10,
            train_tokens: 10,
            timing: Timing::default(),
            roles: Vec::new(),
        });
        m.push_str(&serde_json::to_string(&line).unwrap());
        m.push('\n');
    }
    std::fs::write(dir.join(files::METRICS), m).unwrap();
    outs
}

fn json_of(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn curves_calibration_and_declared_environment_tables_come_from_the_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for seed in [1, 2] {
        let d = tmp.path().join(format!("runs/gdpo-s{seed}"));
        all.extend(write_run(&d, "gdpo", seed, 0.7, 10));
    }
    let a = tmp.path().join("runs/gdpo-s1");
    let b = tmp.path().join("runs/gdpo-s2");
    let mut o = ReportOptions::new(tmp.path().join("report"));
    o.resamples = 200;
    let out = write_report(&[a, b], &o).unwrap();
    let t = tmp.path().join("report/tables");

    // Calibration pools the two seeds' 80 predictions.
    let samples: Vec<(f64, bool)> = all
        .iter()
        .map(|o| {
            let p = o.prediction.as_ref().unwrap();
            (p.confidence.unwrap(), p.predicted.as_deref() == Some(p.gold.as_str()))
        })
        .collect();
    let want_w = calibration(&samples, 10, Binning::EqualWidth).unwrap();
    let want_m = calibration(&samples, 10, Binning::EqualMass).unwrap();
    let cal = json_of(&t.join("calibration.json"));
    let row = &cal["rows"][0];
    assert_eq!(row["n"], 80);
    assert_eq!(row["ece_equal_width"].as_f64().unwrap(), want_w.ece);
    assert_eq!(row["mce_equal_mass"].as_f64().unwrap(), want_m.mce);
    assert_eq!(row["brier"].as_f64().unwrap(), want_w.brier);
    let rel = json_of(&t.join("reliability.json"));
    let counts: i64 = rel["rows"].as_array().unwrap().iter().filter(|r| r["binning"] == "equal_width").map(|r| r["count"].as_i64().unwrap()).sum();
    assert_eq!(counts, 80);

    // Training: last step of each run, and the averaged figure.
    let tr = json_of(&t.join("training.json"));
    let rows = tr["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!((rows[0]["total.last"].as_f64().unwrap() - (-1.0 + 0.7 + 0.01)).abs() < 1e-12);
    assert_eq!(rows[1]["loss.last"].as_f64().unwrap(), 0.1);
    for f in ["training-rewards", "training-diagnostics", "training-zero-std", "training-corr", "training-hacking", "reliability", "fixture-triage-confusion", "comparison"] {
        let png = std::fs::read(tmp.path().join("report/figures").join(format!("{f}.png"))).unwrap();
        assert_eq!(&png[..4], b"\x89PNG", "{f}");
    }
    let svg = std::fs::read_to_string(tmp.path().join("report/figures/training-rewards.svg")).unwrap();
    assert!(svg.contains("RL step") && svg.contains("reward: correctness"), "axis and panel labels");

    // The declared table: accuracy is the mean over runs of each run's accuracy; the confusion
    // matrix (from the label metrics) sums both runs.
    let os = json_of(&t.join(format!("{ENV}.json")));
    let acc = |seed: u64| {
        let outs: Vec<Outcome> = (0..40).map(|i| outcome(i, seed, 0.7)).collect();
        outs.iter().filter(|o| o.prediction.as_ref().is_some_and(|p| p.predicted.as_deref() == Some(p.gold.as_str()))).count() as f64 / 40.0
    };
    assert!((os["rows"][0]["accuracy"].as_f64().unwrap() - (acc(1) + acc(2)) / 2.0).abs() < 1e-12);
    let conf = json_of(&t.join(format!("{ENV}-confusion.json")));
    let total: i64 = conf["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| CLASSES.iter().map(|c| r[format!("pred.{c}")].as_i64().unwrap()).sum::<i64>() + r["pred.invalid"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 80);
    assert!(out.markdown.contains("## Calibration") && out.markdown.contains("![training-rewards](figures/training-rewards.png)"));
}

#[test]
fn bad_inputs_are_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let o = ReportOptions::new(tmp.path().join("r"));
    let e = write_report(&[tmp.path().to_path_buf()], &o).unwrap_err().to_string();
    assert!(e.contains("not a run folder"), "{e}");
    let d = tmp.path().join("run");
    write_run(&d, "x", 1, 0.5, 2);
    // A field the schema does not know (a writer's rename) is an error, not a default.
    let info = std::fs::read_to_string(d.join(files::RUN_INFO)).unwrap().replacen("\"baselines\"", "\"baseline\"", 1);
    std::fs::write(d.join(files::RUN_INFO), info).unwrap();
    let e = write_report(std::slice::from_ref(&d), &o).unwrap_err().to_string();
    assert!(e.contains("run.json") && e.contains("baseline"), "{e}");
    write_run(&d, "x", 1, 0.5, 2);
    std::fs::write(d.join("eval/grpo/summary.json"), "{\"policy\": 3}").unwrap();
    let e = write_report(&[d.clone()], &o).unwrap_err().to_string();
    assert!(e.contains("summary.json"), "{e}");
    write_run(&d, "x", 1, 0.5, 2);
    std::fs::write(d.join("eval/grpo/episodes.jsonl"), "{}\n").unwrap();
    let e = write_report(&[d], &o).unwrap_err().to_string();
    assert!(e.contains("episodes.jsonl:1"), "{e}");
}
