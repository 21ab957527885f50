//! `CertEnv` through the core traits: tasks, stages, episodes, baselines, summaries, JSONL splits.

use std::sync::Arc;

use vigil_core::{EnvError, Environment, GenerationRequest, Outcome, Split, Step, TaskId};
use vigil_env_cert::split::SplitConfig;
use vigil_env_cert::synth::SynthConfig;
use vigil_env_cert::{Baseline, CertConfig, CertEnv, SourceConfig, baseline_policy, soc_narrative_metrics};

fn config() -> CertConfig {
    CertConfig {
        source: SourceConfig::Synthetic(SynthConfig { users: 40, days: 75, seed: 5, activity: 0.05, ..SynthConfig::default() }),
        split: SplitConfig { train_per_class: 12, eval_per_class: 8, ..SplitConfig::default() },
        ..CertConfig::default()
    }
}

fn run(env: &Arc<CertEnv>, baseline: Baseline, split: Split) -> Vec<Outcome> {
    let mut policy = baseline_policy(Arc::clone(env), baseline, 0);
    env.tasks(split, None)
        .unwrap()
        .iter()
        .map(|t| {
            let mut ep = env.start(t, 1).unwrap();
            let g = policy.generate(&[GenerationRequest { task: t.clone(), messages: ep.prompt(), seed: 1 }]).unwrap();
            match ep.step(&g[0].text).unwrap() {
                Step::Done(o) => {
                    assert!(matches!(ep.step("again"), Err(EnvError::EpisodeOver)));
                    *o
                }
                Step::Continue { .. } => panic!("single-turn episodes"),
            }
        })
        .collect()
}

#[test]
fn episodes_baselines_and_summary() {
    let env = Arc::new(CertEnv::new(&config()).unwrap());
    let eval = env.tasks(Split::Eval, None).unwrap();
    assert_eq!(eval.len(), 16);
    assert_eq!(env.tasks(Split::Train, None).unwrap().len(), 24);
    let names: Vec<String> = env.reward_components().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["label", "evidence", "format", "length"]);
    assert_eq!(env.label_classes().unwrap(), ["normal", "suspicious", "malicious"]);
    let staged: usize = env.stages().iter().map(|s| env.tasks(Split::Eval, Some(s)).unwrap().len()).sum();
    assert_eq!(staged, eval.len(), "stages partition the split");
    assert!(env.tasks(Split::Eval, Some("nope")).is_err());
    assert!(env.start(&TaskId::new("XXX0000@2010-01-01"), 0).is_err());

    let oracle = run(&env, Baseline::Oracle, Split::Eval);
    let m = soc_narrative_metrics(&oracle);
    assert_eq!((m.accuracy, m.macro_f1, m.recall_malicious, m.valid_format_rate, m.actionability_rate), (1.0, 1.0, 1.0, 1.0, 1.0));
    assert!(oracle.iter().all(|o| o.rewards.get("label") == Some(1.0) && o.rewards.get("evidence") == Some(1.0)));

    let normal = soc_narrative_metrics(&run(&env, Baseline::AlwaysNormal, Split::Eval));
    assert_eq!((normal.accuracy, normal.recall_malicious, normal.valid_format_rate), (0.5, 0.0, 1.0));

    let rules = run(&env, Baseline::RuleBased, Split::Eval);
    let r = soc_narrative_metrics(&rules);
    assert!(r.accuracy > 0.5, "rules beat the majority class: {r:?}");
    assert_eq!(r.evidence_grounding, Some(1.0), "rules cite only ids that exist");

    vigil_testkit::declared::check_declared_metrics(env.as_ref(), &rules).unwrap();
    let summary = env.summarize(&oracle);
    assert_eq!(summary.metrics["accuracy"], 1.0);
    assert_eq!(summary.detail["binary"]["tp"], 8);
    assert_eq!(summary.confusion.as_ref().map(|c| c.counts[2][2]), Some(8), "{summary:?}");

    // The gold action is the oracle's answer and grades perfectly.
    let t = &eval[0];
    let mut ep = env.start(t, 0).unwrap();
    let gold = ep.gold_action().unwrap();
    let Step::Done(o) = ep.step(&gold).unwrap() else { panic!() };
    assert!(o.format_valid);
    assert!(!ep.prompt()[1].content.contains(&env.window(t).unwrap().events[0].cert_id.to_string()), "no CERT ids in prompts");
}

#[test]
fn same_config_same_tasks_and_jsonl_round_trip() {
    let a = CertEnv::new(&config()).unwrap();
    let b = CertEnv::new(&config()).unwrap();
    assert_eq!(a.tasks(Split::Eval, None).unwrap(), b.tasks(Split::Eval, None).unwrap());
    assert_eq!(a.tasks(Split::Train, None).unwrap(), b.tasks(Split::Train, None).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let (train, eval) = (dir.path().join("train.jsonl"), dir.path().join("dev.jsonl"));
    let copy = |s: Split| a.windows(s).iter().map(|w| (**w).clone()).collect::<Vec<_>>();
    vigil_env_cert::record::write_jsonl(&train, &copy(Split::Train)).unwrap();
    vigil_env_cert::record::write_jsonl(&eval, &copy(Split::Eval)).unwrap();
    let c = CertEnv::new(&CertConfig { source: SourceConfig::Splits { train: train.clone(), eval: eval.clone() }, ..config() }).unwrap();
    assert_eq!(c.tasks(Split::Eval, None).unwrap(), a.tasks(Split::Eval, None).unwrap());
    assert_eq!(c.windows(Split::Train)[3], a.windows(Split::Train)[3]);

    // A broken line is a typed error naming file and line.
    let text = std::fs::read_to_string(&eval).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let bad = lines[2].replacen("\"E001\"", "\"E000\"", 1);
    lines[2] = &bad;
    std::fs::write(&eval, lines.join("\n")).unwrap();
    let e = CertEnv::new(&CertConfig { source: SourceConfig::Splits { train, eval }, ..config() }).unwrap_err().to_string();
    assert!(e.contains("dev.jsonl:3: event 1 has id `E000`"), "{e}");
}
