//! End-to-end training on the multi-turn mock environment with a tiny random Qwen3: SFT then
//! GDPO with LoRA, full fine-tuning with a KL reference, checkpoints, and exact resume after a
//! run is cut off mid-training.

mod common;

use std::path::Path;

use serde_json::Value;
use vigil_advantage::AdvantageConfig;
use vigil_core::{Environment, Policy};
use vigil_policy::CpuAutodiff;
use vigil_rewards::{RewardSet, RewardsConfig};
use vigil_trainer::checkpoint::Phase;
use vigil_trainer::sft_cache::SftCache;
use vigil_trainer::{NoHooks, TrainHooks, TrainSpec, TrainerConfig, TrainerError, train};

const LORA: &str = r#"
steps = 4
group_size = 2
batch_prompts = 2
epochs = 2
grad_accum = 2
lr = 5e-3
checkpoint_every = 2
max_turns = 8
finetune = { kind = "lora", r = 2, alpha = 4, target_modules = ["q_proj", "v_proj"] }
[loss]
beta = 0.05
[sft]
examples = 3
batch_size = 4
lr = 5e-3
"#;

fn run(cfg: &TrainerConfig, model: &Path, dir: &Path, hooks: &mut dyn TrainHooks) -> Result<vigil_trainer::TrainOutcome, TrainerError> {
    run_cached(cfg, model, dir, hooks, None)
}

fn run_cached(
    cfg: &TrainerConfig,
    model: &Path,
    dir: &Path,
    hooks: &mut dyn TrainHooks,
    sft_cache: Option<SftCache>,
) -> Result<vigil_trainer::TrainOutcome, TrainerError> {
    let env = common::env();
    let rewards = RewardSet::new(&RewardsConfig::default(), &env.reward_components()).unwrap();
    let est = AdvantageConfig::default();
    let spec = TrainSpec {
        env: &env,
        rewards: &rewards,
        estimator: &est,
        config: cfg,
        source: common::source(model),
        tokenizer_dir: model.to_path_buf(),
        generation: common::generation(),
        eval_generation: common::generation(),
        seed: 11,
        run_dir: dir.to_path_buf(),
        eval_every: 1,
        self_play: None,
        sft_teacher: None,
        sft_cache,
    };
    train::<CpuAutodiff>(&spec, hooks, &Default::default())
}

/// Two runs sharing a warm-start (`[trainer.sft] cache`): the first trains and stores it, the
/// second (another RL learning rate) starts from it without an SFT step of its own.
#[test]
fn a_shared_warm_start_is_trained_once_and_reused() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("model");
    common::tiny_model(&model, &common::env());
    let cfg = common::trainer(LORA);
    let cache = SftCache { entry: d.path().join("cache").join("k"), key: "test key".into() };
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    let out_a = run_cached(&cfg, &model, &a, &mut NoHooks, Some(cache.clone())).unwrap();
    assert!(cache.entry.join(vigil_trainer::sft_cache::LINES).is_file());
    assert_eq!(std::fs::read_to_string(cache.entry.join(vigil_trainer::sft_cache::KEY)).unwrap(), "test key");
    let mut other = cfg.clone();
    other.lr *= 3.0;
    let out_b = run_cached(&other, &model, &b, &mut NoHooks, Some(cache)).unwrap();
    // The very lines, wall-clock timings included: replayed, not recomputed.
    let sft = |dir: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
        text.lines().filter(|l| l.contains("\"phase\":\"sft\"")).map(str::to_string).collect()
    };
    assert!(!sft(&a).is_empty());
    assert_eq!(sft(&a), sft(&b));
    let file = |p: &Path| std::fs::read(p.join("adapter_model.safetensors")).unwrap();
    assert_eq!(file(out_a.sft_policy.as_ref().unwrap()), file(out_b.sft_policy.as_ref().unwrap()));
    assert_ne!(file(&out_a.final_policy), file(&out_b.final_policy), "RL differs");
}

/// Metrics lines without the wall-clock part.
fn metrics(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("timing");
            v
        })
        .collect()
}

/// Fails the evaluation after RL step `fail_at`: a crash between checkpoints.
struct CrashAt {
    fail_at: u64,
    phases: Vec<Phase>,
    evals: Vec<String>,
}

impl TrainHooks for CrashAt {
    fn phase(&mut self, phase: Phase, _: u64, _: u64) {
        self.phases.push(phase);
    }
    fn evaluate(&mut self, label: &str, policy: &mut dyn Policy) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        // The live policy answers like any other.
        let req = vigil_core::GenerationRequest { task: vigil_core::TaskId::new("easy-0"), messages: vec![vigil_core::ChatMessage::user("hi")], seed: 1 };
        assert_eq!(policy.generate(&[req])?.len(), 1);
        self.evals.push(label.to_string());
        if label == format!("step-{}", self.fail_at) { Err("simulated crash".into()) } else { Ok(()) }
    }
}

#[test]
fn lora_sft_then_gdpo_checkpoints_and_resumes_exactly() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("model");
    common::tiny_model(&model, &common::env());
    let cfg = common::trainer(LORA);

    let full = d.path().join("full");
    let mut hooks = CrashAt { fail_at: 99, phases: Vec::new(), evals: Vec::new() };
    let out = run(&cfg, &model, &full, &mut hooks).unwrap();
    assert_eq!(hooks.phases, vec![Phase::Sft, Phase::Rl]);
    assert_eq!(hooks.evals, vec!["step-1", "step-2", "step-3"]);
    assert!(out.final_policy.join("adapter_model.safetensors").is_file());
    assert!(out.final_policy.join("tokenizer.json").is_file());
    assert!(out.sft_policy.as_ref().unwrap().join("adapter_config.json").is_file());
    let m = metrics(&full);
    let sft = m.iter().filter(|l| l["phase"] == "sft").count();
    let rl: Vec<&Value> = m.iter().filter(|l| l["phase"] == "rl").collect();
    assert!(sft >= 1);
    assert_eq!(rl.len(), 4);
    // GDPO's advantage is zero exactly when every component ties in the group, which implies a
    // tied total: never more zero-advantage groups than zero-std totals.
    for l in &rl {
        let (zero_adv, zero_std) = (l["frac_zero_advantage"].as_f64().unwrap(), l["frac_reward_zero_std"].as_f64().unwrap());
        assert!((0.0..=1.0).contains(&zero_adv) && zero_adv <= zero_std + 1e-12, "{l}");
    }
    for l in &rl {
        for k in ["reward", "components", "advantage", "loss", "kl", "clip_frac", "entropy", "completion_tokens", "format_valid_rate", "rollout_tokens", "train_tokens"] {
            assert!(l.get(k).is_some(), "missing {k} in {l}");
        }
        assert!(l["kl"].as_f64().unwrap() >= 0.0);
        assert!(l["train_tokens"].as_u64().unwrap() > 0);
        assert_eq!(l["components"][0]["name"], "ok_rate");
    }
    // Only the newest checkpoints are kept, plus the warm-start.
    let mut names: Vec<String> = std::fs::read_dir(full.join("checkpoints")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, vec!["done", "latest", "rl-000002", "rl-000004", "sft"]);

    // The same run, cut off after RL step 3 (its checkpoint is at step 2), then resumed.
    let cut = d.path().join("cut");
    let mut crash = CrashAt { fail_at: 3, phases: Vec::new(), evals: Vec::new() };
    let e = run(&cfg, &model, &cut, &mut crash).unwrap_err();
    assert!(e.to_string().contains("simulated crash"), "{e}");
    assert_eq!(metrics(&cut).iter().filter(|l| l["phase"] == "rl").count(), 3);
    let resumed = run(&cfg, &model, &cut, &mut NoHooks).unwrap();
    assert!(resumed.resumed_from.unwrap().ends_with("rl-000002"));
    assert_eq!(metrics(&cut), m, "a resumed run must repeat the uninterrupted one");
    let a = std::fs::read(out.final_policy.join("adapter_model.safetensors")).unwrap();
    let b = std::fs::read(resumed.final_policy.join("adapter_model.safetensors")).unwrap();
    assert_eq!(a, b, "same final adapter bytes");

    // A finished run resumes to a no-op; a changed [trainer] section is refused.
    run(&cfg, &model, &cut, &mut NoHooks).unwrap();
    let changed = TrainerConfig { lr: 1e-4, ..cfg };
    let e = run(&changed, &model, &cut, &mut NoHooks).unwrap_err();
    assert!(e.to_string().contains("different [trainer]"), "{e}");
}

#[test]
fn full_finetune_with_sequence_ratio_dynamic_sampling_and_reference() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("model");
    common::tiny_model(&model, &common::env());
    let cfg = common::trainer(
        r#"
        group_size = 3
        batch_prompts = 2
        lr = 1e-3
        checkpoint_every = 1
        keep_checkpoints = 1
        finetune = { kind = "full" }
        dynamic_sampling = { max_rounds = 2 }
        [[curriculum]]
        stage = "easy"
        steps = 1
        [[curriculum]]
        stage = "hard"
        steps = 1
        [loss]
        ratio = "sequence"
        aggregation = "token_mean"
        beta = 0.1
        kl_estimator = "k1"
        "#,
    );
    let dir = d.path().join("run");
    let out = run(&cfg, &model, &dir, &mut NoHooks).unwrap();
    assert!(out.sft_policy.is_none());
    assert!(out.final_policy.join("model.safetensors").is_file());
    assert!(out.final_policy.join("config.json").is_file());
    let m = metrics(&dir);
    assert_eq!(m.len(), 2);
    assert_eq!((m[0]["stage"].as_str(), m[1]["stage"].as_str()), (Some("easy"), Some("hard")));
    for l in &m {
        let (kept, sampled) = (l["groups_kept"].as_u64().unwrap(), l["groups_sampled"].as_u64().unwrap());
        assert!(kept <= 2 && sampled >= 2 && sampled <= 4, "{l}");
    }
    // The saved full model loads back as a policy folder.
    vigil_policy::load_qwen3::<vigil_policy::CpuBackend>(&out.final_policy, vigil_policy::ComputeDtype::F32, &Default::default()).unwrap();
    // An older Vigil's checkpoint (format 1) kept full fine-tuning moments `[out, in]`: a resume
    // is refused by name instead of applying them transposed.
    let ckpts = dir.join("checkpoints");
    let latest = std::fs::read_to_string(ckpts.join("latest")).unwrap();
    let state = ckpts.join(latest.trim()).join("state.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(v["format"], 2);
    v["format"] = 1.into();
    std::fs::write(&state, v.to_string()).unwrap();
    let err = run(&cfg, &model, &dir, &mut NoHooks).unwrap_err().to_string();
    assert!(err.contains("format 1") && err.contains("start a new run folder"), "{err}");
}

#[test]
fn bad_curriculum_and_missing_gold_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("model");
    common::tiny_model(&model, &common::env());
    let cfg = common::trainer("[[curriculum]]\nstage = \"nightmare\"\nsteps = 2\n");
    let e = run(&cfg, &model, &d.path().join("r"), &mut NoHooks).unwrap_err();
    assert!(e.to_string().contains("curriculum[0].stage") && e.to_string().contains("easy, hard"), "{e}");
    let mut bad = common::trainer("steps = 1");
    bad.sft = Some(toml::from_str("stages = [\"nightmare\"]").unwrap());
    let e = run(&bad, &model, &d.path().join("s"), &mut NoHooks).unwrap_err();
    assert!(e.to_string().contains("sft.stages"), "{e}");
}

#[test]
fn a_saved_full_model_keeps_the_checkpoint_layout_and_values() {
    use vigil_policy::{ComputeDtype, CpuBackend, SafetensorsReader, load_qwen3};
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("model");
    common::tiny_model(&model, &common::env());
    let m = load_qwen3::<CpuBackend>(&model, ComputeDtype::F32, &Default::default()).unwrap();
    let saved = d.path().join("saved");
    std::fs::create_dir_all(&saved).unwrap();
    vigil_trainer::learner::save_full(&m, &saved).unwrap();
    // The model keeps projections `[in, out]`; the file must hold HF's `[out, in]` values.
    let read = |dir: &Path| {
        let mut r = SafetensorsReader::open(&dir.join("model.safetensors")).unwrap();
        let infos = r.tensors().to_vec();
        infos.into_iter().map(|i| (i.name.clone(), (i.shape.clone(), r.read_f32(&i).unwrap()))).collect::<std::collections::BTreeMap<_, _>>()
    };
    let (before, after) = (read(&model), read(&saved));
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    for (name, (shape, values)) in &before {
        assert_eq!(&after[name].0, shape, "{name}");
        assert_eq!(&after[name].1, values, "{name}");
    }
}
