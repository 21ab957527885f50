//! Cross-crate pipeline: every environment's scripted policies → reward vectors → `[rewards]`
//! weights → every advantage estimator. This is the path a training step takes, without a model:
//! if an environment's components, the reward set and the estimators disagree on names, order or
//! shapes, it fails here first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_advantage::AdvantageConfig;
use vigil_core::{
    AdvantageEstimator, DriverLimits, Environment, Policy, RewardBatch, Split, run_episodes,
};
use vigil_rewards::{RewardSet, RewardsConfig};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// Runs each policy once on the first `tasks` eval tasks (all with `None`); group i holds task i
/// under every policy.
fn groups(
    env: &dyn Environment,
    policies: &mut [Box<dyn Policy>],
    tasks: Option<usize>,
    rewards: &RewardSet,
) -> Vec<Vec<Vec<f64>>> {
    let all = env.tasks(Split::Eval, None).unwrap();
    let jobs: Vec<_> = all
        .into_iter()
        .take(tasks.unwrap_or(usize::MAX))
        .map(|t| (t, 11))
        .collect();
    let tasks = jobs.len();
    assert!(tasks >= 8, "{}: only {tasks} eval tasks", env.name());
    let mut groups = vec![Vec::new(); tasks];
    for p in policies.iter_mut() {
        let records =
            run_episodes(env, p.as_mut(), &jobs, DriverLimits::default(), |_| {}).unwrap();
        for (i, r) in records.iter().enumerate() {
            let names: Vec<&str> = r.outcome.rewards.names().collect();
            let declared: Vec<String> = env
                .reward_components()
                .iter()
                .map(|c| c.name.clone())
                .collect();
            assert_eq!(
                names,
                declared,
                "{}: outcome components differ from the declared ones",
                env.name()
            );
            groups[i].push(rewards.values(&r.outcome.rewards).unwrap());
        }
    }
    groups
}

/// Every estimator on the batch: finite, one value per rollout, and zero-sum groups for those
/// that centre within the group (before any batch step).
fn check_estimators(name: &str, groups: &[Vec<Vec<f64>>], weights: &[f64]) {
    let batch = RewardBatch::from_nested(groups).unwrap();
    let configs = [
        r#"{"kind": "grpo"}"#,
        r#"{"kind": "grpo", "scale": "none"}"#,
        r#"{"kind": "dr_grpo"}"#,
        r#"{"kind": "gdpo", "batch_norm": false}"#,
        r#"{"kind": "gdpo"}"#,
        r#"{"kind": "rloo"}"#,
        r#"{"kind": "reinforce_pp_baseline"}"#,
    ];
    for text in configs {
        let cfg: AdvantageConfig = serde_json::from_str(text).unwrap();
        cfg.validate().unwrap();
        let adv = cfg.estimate(&batch, weights).unwrap();
        assert_eq!(adv.len(), batch.rollouts(), "{name} {text}");
        assert!(adv.iter().all(|a| a.is_finite()), "{name} {text}: {adv:?}");
        let zero_sum = !text.contains("\"gdpo\"}") && !text.contains("reinforce_pp");
        if zero_sum {
            for g in 0..batch.groups() {
                let s: f64 = adv[batch.group_range(g)].iter().sum();
                assert!(s.abs() < 1e-9, "{name} {text}: group {g} sums to {s}");
            }
        }
    }
}

/// The better policy (last) earns more weighted reward than the worse one (first) on average.
fn assert_ordered(name: &str, groups: &[Vec<Vec<f64>>], rewards: &RewardSet) {
    let mean =
        |j: usize| groups.iter().map(|g| rewards.total(&g[j])).sum::<f64>() / groups.len() as f64;
    let (worst, best) = (mean(0), mean(groups[0].len() - 1));
    assert!(
        best > worst,
        "{name}: the oracle ({best}) does not beat the weakest baseline ({worst})"
    );
}

#[test]
fn opensoc_baselines_through_rewards_and_estimators() {
    use vigil_env_opensoc::{Baseline, OpenSocConfig, OpenSocEnv, baseline_policy};
    let cfg = OpenSocConfig {
        holdout: root().join("seeds/opensoc/holdout.jsonl"),
        ..OpenSocConfig::default()
    };
    let env = Arc::new(OpenSocEnv::new(&cfg).unwrap());
    let rewards = RewardSet::new(&RewardsConfig::default(), &env.reward_components()).unwrap();
    let mut policies: Vec<Box<dyn Policy>> = [
        Baseline::AlwaysDismiss,
        Baseline::Random,
        Baseline::KeywordHeuristic,
        Baseline::VerifierOracle,
    ]
    .into_iter()
    .map(|b| baseline_policy(env.clone(), b, 5))
    .collect();
    let g = groups(env.as_ref(), &mut policies, Some(24), &rewards);
    check_estimators("opensoc", &g, rewards.weights());
    assert_ordered("opensoc", &g, &rewards);
}

#[test]
fn opensec_baselines_through_rewards_and_estimators() {
    use vigil_env_opensec::{Baseline, OpenSecConfig, OpenSecEnv, baseline_policy};
    let cfg = OpenSecConfig {
        seeds: root().join("seeds/opensec/manifest.json"),
        ..OpenSecConfig::default()
    };
    let env = Arc::new(OpenSecEnv::new(&cfg).unwrap());
    let rewards = RewardSet::new(&RewardsConfig::default(), &env.reward_components()).unwrap();
    let mut policies: Vec<Box<dyn Policy>> = [
        Baseline::Null,
        Baseline::Random,
        Baseline::EvidenceHeuristic,
        Baseline::Oracle,
    ]
    .into_iter()
    .map(|b| baseline_policy(env.clone(), b, 5))
    .collect();
    let g = groups(env.as_ref(), &mut policies, Some(12), &rewards);
    check_estimators("opensec", &g, rewards.weights());
    assert_ordered("opensec", &g, &rewards);
}

#[test]
fn cert_baselines_through_rewards_and_estimators() {
    use vigil_env_cert::{Baseline, CertConfig, CertEnv, baseline_policy};
    let env = Arc::new(CertEnv::new(&CertConfig::default()).unwrap());
    let rewards = RewardSet::new(&RewardsConfig::default(), &env.reward_components()).unwrap();
    let mut policies: Vec<Box<dyn Policy>> = Baseline::ALL
        .into_iter()
        .map(|b| baseline_policy(env.clone(), b, 5))
        .collect();
    let g = groups(env.as_ref(), &mut policies, None, &rewards);
    check_estimators("cert", &g, rewards.weights());
    assert_ordered("cert", &g, &rewards);
}
