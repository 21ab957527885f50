//! `OpenSocEnv` through the core traits: tasks, stages, episodes, modes, self-play.

use std::sync::Arc;

use serde_json::json;
use vigil_core::{
    ChatMessage, DriverLimits, EnvError, Environment, EpisodeOptions, GenerationRequest, Policy, Role, Split, Step, TaskId,
    run_episodes,
};
use vigil_env_opensoc::{
    Baseline, Mode, OpenSocConfig, OpenSocEnv, SelfPlayPolicy, Stage, TriageAction, baseline_policy, compute_ground_truth,
    scripted_attacker,
};

use crate::common::config;

fn env() -> OpenSocEnv {
    OpenSocEnv::new(&config()).unwrap()
}

fn done(step: Step) -> vigil_core::Outcome {
    match step {
        Step::Done(o) => *o,
        Step::Continue { .. } => panic!("expected the episode to end"),
    }
}

#[test]
fn tasks_stages_and_labels() {
    let e = env();
    assert_eq!(e.name(), "opensoc");
    assert_eq!(e.stages(), ["stage1_basic", "stage2_multi", "stage3_mixed", "stage4_adversarial"]);
    assert_eq!(e.label_classes().unwrap(), ["dismiss", "monitor", "quarantine_host", "block_ip", "escalate"]);
    let names: Vec<String> = e.reward_components().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["correctness", "safety", "over_reaction", "citation", "format"]);
    let eval = e.tasks(Split::Eval, None).unwrap();
    assert_eq!(eval.len(), 200);
    assert_eq!(e.tasks(Split::Eval, Some("stage3_mixed")).unwrap().len(), 50);
    assert_eq!(e.stage_of(&eval[120]).as_deref(), Some("stage3_mixed"));
    let train = e.tasks(Split::Train, Some("stage2_multi")).unwrap();
    assert_eq!(train.len(), 200);
    assert_eq!(train[7].as_str(), "train/stage2_multi/7");
    assert_eq!(e.stage_of(&train[7]).as_deref(), Some("stage2_multi"));
    assert!(matches!(e.tasks(Split::Train, Some("stage9")), Err(EnvError::UnknownStage { .. })));
    for bad in ["train/stage2_multi/200", "train/stage2_multi/07", "train/stage9/1", "holdout/200", "holdout/1", "x"] {
        assert!(matches!(e.start(&TaskId::new(bad), 0), Err(EnvError::UnknownTask(_))), "{bad}");
        assert_eq!(e.stage_of(&TaskId::new(bad)), None);
    }
}

#[test]
fn training_incidents_are_deterministic_and_follow_the_label_mix() {
    let e = env();
    let again = env();
    let other = OpenSocEnv::new(&OpenSocConfig { seed: 1, ..config() }).unwrap();
    let t = TaskId::new("train/stage3_mixed/42");
    assert_eq!(e.incident(&t).unwrap(), again.incident(&t).unwrap());
    assert_ne!(e.incident(&t).unwrap(), other.incident(&t).unwrap());
    for s in Stage::ALL {
        let mut counts = [0usize; 5];
        for i in 0..100 {
            counts[compute_ground_truth(&e.train_incident(s, i).params).action.index()] += 1;
        }
        assert_eq!(counts, [20; 5], "{s:?}");
    }
    let mut skew = config();
    skew.label_mix.stage1_basic.escalate = 0.0;
    skew.label_mix.stage1_basic.dismiss = 2.0;
    let e = OpenSocEnv::new(&skew).unwrap();
    let labels: Vec<_> = (0..100).map(|i| compute_ground_truth(&e.train_incident(Stage::Stage1Basic, i).params).action).collect();
    assert_eq!(labels.iter().filter(|a| **a == TriageAction::Dismiss).count(), 40);
    assert_eq!(labels.iter().filter(|a| **a == TriageAction::Escalate).count(), 0);
}

#[test]
fn defender_episode_end_to_end() {
    let e = env();
    let t = TaskId::new("holdout/137");
    let mut ep = e.start(&t, 9).unwrap();
    let prompt = ep.prompt();
    assert_eq!((prompt.len(), prompt[0].role, prompt[1].role), (2, Role::System, Role::User));
    assert!(prompt[1].content.starts_with("Alert SOC-") && prompt[1].content.contains("\nLog window:\n[2026-"));
    let gold = ep.gold_action().unwrap();
    let o = done(ep.step(&gold).unwrap());
    assert_eq!(o.rewards.values().collect::<Vec<_>>(), [1.0, 0.0, 0.0, 0.1, 0.0]);
    assert!(o.format_valid && o.steps == 1);
    assert_eq!(o.metrics["action_correct"], 1.0);
    assert_eq!(o.metrics["citation_correct"], 1.0);
    let p = o.prediction.unwrap();
    assert_eq!(p.predicted.as_deref(), Some(p.gold.as_str()));
    assert!(matches!(ep.step(&gold), Err(EnvError::EpisodeOver)));
    assert_eq!(ep.gold_action(), None);
    // Metrics that do not apply are absent.
    let mut ep = e.start(&t, 9).unwrap();
    let o = done(ep.step("no idea").unwrap());
    assert!(!o.format_valid && o.prediction.unwrap().predicted.is_none());
    assert!(!o.metrics.contains_key("cost_gap"));
    assert_eq!(o.metrics.contains_key("dismiss_on_malicious"), !o.metrics.contains_key("over_react"));
}

#[test]
fn mode_option_through_the_trait() {
    let e = env();
    let t = TaskId::new("train/stage4_adversarial/3");
    let mut o = EpisodeOptions::new();
    o.insert("mode".into(), json!("self_play"));
    let ep = e.start_with(&t, 0, &o).unwrap();
    assert!(ep.prompt()[1].content.starts_with("Stage: stage4_adversarial"));
    // The attacker's gold answer (its SFT warm-start) is the task's own stock incident.
    let gold = ep.gold_action().expect("a gold incident");
    let crafted = vigil_env_opensoc::attacker::parse_craft(&gold).unwrap();
    assert_eq!(crafted, e.incident(&t).unwrap().1);
    assert!(vigil_env_opensoc::plausibility::check_plausibility(&crafted).is_ok());
    // The hold-out stays defender-only.
    let h = e.start_with(&TaskId::new("holdout/000"), 0, &o).unwrap();
    assert!(h.prompt()[1].content.starts_with("Alert "));
    o.insert("mode".into(), json!("defender_only"));
    assert!(e.start_with(&t, 0, &o).unwrap().prompt()[1].content.starts_with("Alert "));
    o.insert("mode".into(), json!("attacker"));
    assert!(matches!(e.start_with(&t, 0, &o), Err(EnvError::InvalidOption { .. })));
    let mut typo = EpisodeOptions::new();
    typo.insert("mdoe".into(), json!("self_play"));
    let err = e.start_with(&t, 0, &typo).err().unwrap();
    assert!(err.to_string().contains("mdoe"), "{err}");
}

#[test]
fn self_play_episode_and_rewards() {
    let e = OpenSocEnv::new(&OpenSocConfig { mode: Mode::SelfPlay, ..config() }).unwrap();
    assert_eq!(e.reward_components().last().unwrap().name, "attacker_novelty");
    let roles = e.roles();
    assert_eq!(roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["attacker", "defender"]);
    assert_eq!(roles[0].components.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vigil_env_opensoc::attacker::ATTACKER_COMPONENTS);
    assert_eq!(roles[1].components.len(), 5);
    let t = TaskId::new("train/stage2_multi/5");
    let mut attacker = scripted_attacker(3);
    let mut ep = e.start(&t, 0).unwrap();
    let craft = attacker.generate(&[GenerationRequest { task: t.clone(), messages: ep.prompt(), seed: 1 }]).unwrap()[0].text.clone();
    let obs = match ep.step(&craft).unwrap() {
        Step::Continue { observation } => observation,
        Step::Done(o) => panic!("{o:?}"),
    };
    assert_eq!(obs.role, Role::Tool);
    assert_eq!(ep.role(), vigil_env_opensoc::episode::DEFENDER_ROLE);
    let seen = ep.role_prompt().expect("the defender gets its own conversation");
    assert_eq!(seen.len(), 2);
    assert!(!seen[1].content.contains("Routine activity"));
    assert!(!obs.content.contains("target_label") && !obs.content.contains("Routine activity"), "claim and narrative stay hidden");
    let gold = ep.gold_action().unwrap();
    let o = done(ep.step(&gold).unwrap());
    let r = o.rewards.get("attacker").unwrap();
    assert!((0.0..=0.2).contains(&r), "a stock incident triaged correctly earns only novelty: {r}");
    assert_eq!((o.metrics["plausible"], o.metrics["attacker_fooled"], o.steps), (1.0, 0.0, 2));

    // The same incident, defender wrong: +1 (plus novelty).
    let mut ep = e.start(&t, 0).unwrap();
    ep.step(&craft).unwrap();
    let truth = gold.lines().next().unwrap().trim_start_matches("Action: ").to_owned();
    let wrong = if truth == "dismiss" { "escalate" } else { "dismiss" };
    let o = done(ep.step(&format!("Action: {wrong}\nCitedLog: L1-0\nRationale: x")).unwrap());
    assert!(o.rewards.get("attacker").unwrap() >= 1.0);

    // Schema violation: the episode ends after the attacker's turn at -0.5.
    let mut ep = e.start(&t, 0).unwrap();
    let o = done(ep.step(r#"{"craft_incident": {"category": "c2_beacon", "events": [], "mood": 1}}"#).unwrap());
    assert_eq!((o.rewards.get("attacker"), o.steps, o.format_valid), (Some(-0.5), 1, false));
    assert_eq!(o.rewards.get("attacker_schema"), Some(-0.5));
    assert!(matches!(ep.step("x"), Err(EnvError::EpisodeOver)));
}

/// Records what the defender is shown.
struct Recorder {
    inner: Box<dyn Policy>,
    seen: Arc<std::sync::Mutex<Vec<Vec<ChatMessage>>>>,
}

impl Policy for Recorder {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<vigil_core::Generation>, vigil_core::PolicyError> {
        self.seen.lock().unwrap().extend(requests.iter().map(|r| r.messages.clone()));
        self.inner.generate(requests)
    }
}

#[test]
fn self_play_policy_routes_roles_through_the_driver() {
    let cfg = OpenSocConfig { mode: Mode::SelfPlay, ..config() };
    let e = Arc::new(OpenSocEnv::new(&cfg).unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let defender = Recorder { inner: baseline_policy(e.clone(), Baseline::KeywordHeuristic, 0), seen: seen.clone() };
    let mut policy = SelfPlayPolicy { attacker: scripted_attacker(0), defender: Box::new(defender) };
    let jobs: Vec<_> = e.tasks(Split::Train, Some("stage4_adversarial")).unwrap().into_iter().take(40).map(|t| (t, 0)).collect();
    let records = run_episodes(e.as_ref(), &mut policy, &jobs, DriverLimits::default(), |_| {}).unwrap();
    assert_eq!(records.len(), 40);
    let fooled: f64 = records.iter().map(|r| r.outcome.metrics["attacker_fooled"]).sum();
    assert!(records.iter().all(|r| r.outcome.steps == 2 && r.outcome.metrics["plausible"] == 1.0));
    assert!(fooled > 0.0 && fooled < 40.0, "the heuristic is fooled sometimes, not always: {fooled}");
    assert!(records[0].transcript[3].content.starts_with("[role: defender]"));
    // The defender got fresh [system, user] conversations: never the attacker's JSON.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 40);
    for m in seen.iter() {
        assert_eq!((m.len(), m[0].role, m[1].role), (2, Role::System, Role::User));
        assert!(m[1].content.starts_with("Alert ") && !m[1].content.contains("craft_incident"));
    }
}

#[test]
fn accepted_incidents_grow_the_archive_and_round_trip_through_the_training_state() {
    let e = OpenSocEnv::new(&OpenSocConfig { mode: Mode::SelfPlay, ..config() }).unwrap();
    assert_eq!(e.training_state(), serde_json::Value::Null);
    let t = TaskId::new("train/stage3_mixed/4");
    let run = |e: &OpenSocEnv| {
        let mut ep = e.start(&t, 0).unwrap();
        let craft = ep.gold_action().unwrap();
        ep.step(&craft).unwrap();
        let answer = ep.gold_action().unwrap();
        let o = done(ep.step(&answer).unwrap());
        vigil_core::EpisodeRecord {
            task: t.clone(),
            seed: 0,
            transcript: Vec::new(),
            generations: vec![vigil_core::Generation::text(craft), vigil_core::Generation::text(answer)],
            outcome: o,
        }
    };
    let first = run(&e);
    e.observe_training(std::slice::from_ref(&first));
    let state = e.training_state();
    assert_eq!(state["accepted"].as_array().map(Vec::len), Some(1), "{state}");
    // The same incident again is no longer novel at all.
    assert_eq!(run(&e).outcome.rewards.get("attacker_novelty"), Some(0.0));
    e.observe_training(&[first.clone(), first]);
    assert_eq!(e.training_state(), state, "an accepted shape is kept once");
    // A fresh environment restored from the state scores exactly the same.
    let f = OpenSocEnv::new(&OpenSocConfig { mode: Mode::SelfPlay, ..config() }).unwrap();
    f.restore_training_state(&state).unwrap();
    assert_eq!(f.training_state(), state);
    assert_eq!(run(&f).outcome, run(&e).outcome);
    assert!(f.restore_training_state(&json!({"accepted": [1], "x": 2})).is_err());
    assert!(f.restore_training_state(&json!([1])).is_err());
    // Solo defender episodes: only the defender, on the task's own incident.
    let solo = e.start_solo(&t, 0, vigil_env_opensoc::episode::DEFENDER_ROLE).unwrap();
    assert!(solo.prompt()[1].content.starts_with("Alert "));
    assert!(e.start_solo(&t, 0, vigil_env_opensoc::episode::ATTACKER_ROLE).is_err());
}
