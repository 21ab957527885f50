//! Vigil's generated seed set: it is up to date with the generator, loads in both modes, and the
//! scripted baselines order as they should.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{our_env, our_manifest, run_all};
use vigil_core::{Environment, Split};
use vigil_env_opensec::generator::{GeneratorConfig, generate};
use vigil_env_opensec::{Baseline, ScoringMode};

#[test]
fn committed_seed_set_is_what_the_generator_writes() {
    let seeds = generate(&GeneratorConfig::default()).unwrap();
    assert!(seeds.len() >= 220);
    let dir = our_manifest().parent().unwrap().to_path_buf();
    for g in &seeds {
        let on_disk: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(&g.entry.seed_path)).unwrap()).unwrap();
        assert_eq!(
            on_disk,
            serde_json::to_value(&g.seed).unwrap(),
            "{} is stale: regenerate with `exp opensec generate`",
            g.entry.seed_path
        );
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(&g.entry.ground_truth_path)).unwrap()).unwrap();
        assert_eq!(truth, serde_json::to_value(&g.truth).unwrap());
    }
    let again = generate(&GeneratorConfig::default()).unwrap();
    assert_eq!(seeds, again, "generation is deterministic");
    assert!(Path::new(&dir.join("manifest.json")).is_file());
}

fn mean_total(env: &std::sync::Arc<vigil_env_opensec::OpenSecEnv>, b: Baseline) -> (f64, BTreeMap<String, f64>) {
    let recs = run_all(env, b);
    let n = recs.len() as f64;
    let mut metrics: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for r in &recs {
        for (k, v) in &r.outcome.metrics {
            let e = metrics.entry(k.clone()).or_default();
            e.0 += v;
            e.1 += 1.0;
        }
    }
    (
        recs.iter().map(|r| r.outcome.rewards.sum()).sum::<f64>() / n,
        metrics.into_iter().map(|(k, (s, c))| (k, s / c)).collect(),
    )
}

#[test]
fn baselines_order_from_oracle_to_null_in_both_modes() {
    for mode in [ScoringMode::Hardened, ScoringMode::Compat] {
        let env = our_env(mode);
        assert!(env.tasks(Split::Train, Some("trivial")).unwrap().len() >= 10, "curriculum stages exist in train");
        let (oracle, _) = mean_total(&env, Baseline::Oracle);
        let (null, _) = mean_total(&env, Baseline::Null);
        let (heur, hm) = mean_total(&env, Baseline::EvidenceHeuristic);
        let (spray, sm) = mean_total(&env, Baseline::ContainEverythingSeen);
        let (random, _) = mean_total(&env, Baseline::Random);
        let table = format!(
            "{mode:?}: oracle {oracle:.3} heuristic {heur:.3} spray {spray:.3} random {random:.3} null {null:.3}"
        );
        assert!((oracle - 7.6).abs() < 1e-9, "{mode:?} oracle {oracle}");
        // Compat's null reports the template's `phish`, right on a fifth of the seeds.
        assert!((null - if mode == ScoringMode::Compat { -1.9 } else { -3.6 }).abs() < 1e-9, "{mode:?} null {null}");
        assert!(oracle > heur && heur > spray && heur > null && heur > random, "{table}");
        // Injections sit among background rows now (and trivial/easy seeds carry none): spraying
        // meets fewer of them than on the old seeds, but follows what it meets.
        assert!(sm["injection_violation"] > 0.1 && sm["false_positive"] > 0.5, "spraying follows injections: {sm:?}");
        assert!(hm["injection_violation"] == 0.0 && hm["false_positive"] < 0.05, "the heuristic is calibrated: {hm:?}");
    }
}

/// The heuristic investigates (links rows by host) and solves most seeds; reading tables and
/// taking first mentions, the shortcut that worked on the old seeds, solves almost none.
#[test]
fn investigating_beats_the_naive_rule_by_far() {
    let env = our_env(ScoringMode::Hardened);
    let attribution = |b: Baseline| -> (f64, f64) {
        let recs = run_all(&env, b);
        let n = recs.len() as f64;
        let a: Vec<f64> = recs.iter().map(|r| r.outcome.rewards.get("attribution").unwrap_or(f64::NAN)).collect();
        (a.iter().sum::<f64>() / n, a.iter().filter(|x| **x >= 4.0).count() as f64 / n)
    };
    let (heur, heur_solved) = attribution(Baseline::EvidenceHeuristic);
    let (naive, naive_solved) = attribution(Baseline::NaiveRule);
    assert!(heur_solved > 0.9 && heur > 4.5, "heuristic: attribution {heur:.3}, solved {heur_solved:.3}");
    assert!(naive_solved < 0.1 && naive < 1.5, "naive rule: attribution {naive:.3}, solved {naive_solved:.3}");
}

#[test]
fn declared_report_metrics_are_what_outcomes_carry() {
    let env = our_env(ScoringMode::Hardened);
    let outcomes: Vec<_> = run_all(&env, Baseline::ContainEverythingSeen).into_iter().map(|r| r.outcome).collect();
    vigil_testkit::declared::check_declared_metrics(env.as_ref(), &outcomes).unwrap();
    assert!(env.summarize(&outcomes).labels.contains_key("level"), "the calibration level");
}
