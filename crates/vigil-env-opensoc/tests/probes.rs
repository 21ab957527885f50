//! Reward-hacking probes on the frozen hold-out: every probe's mean total stays below the
//! honest keyword heuristic's (issue 10). A probe that beats it is a rubric bug to fix in
//! `rubric.rs`, never a probe to weaken.

use std::path::Path;
use std::sync::Arc;

use vigil_core::{DriverLimits, Environment, Split, run_episodes};
use vigil_env_opensoc::probes::{HONEST, PROBES};
use vigil_env_opensoc::{Baseline, OpenSocConfig, OpenSocEnv, baseline_policy};

/// Mean of each component and of their unweighted sum over the hold-out.
fn means(env: &Arc<OpenSocEnv>, b: Baseline) -> (f64, Vec<(String, f64)>) {
    let jobs: Vec<_> = env.tasks(Split::Eval, None).unwrap().into_iter().map(|t| (t, 7)).collect();
    let mut policy = baseline_policy(Arc::clone(env), b, 7);
    let recs = run_episodes(env.as_ref(), policy.as_mut(), &jobs, DriverLimits::default(), |_| {}).unwrap();
    let n = recs.len() as f64;
    let comps = env
        .reward_components()
        .into_iter()
        .map(|c| {
            let m = recs.iter().map(|r| r.outcome.rewards.get(&c.name).unwrap()).sum::<f64>() / n;
            (c.name, m)
        })
        .collect();
    (recs.iter().map(|r| r.outcome.rewards.sum()).sum::<f64>() / n, comps)
}

fn row(name: &str, (total, comps): &(f64, Vec<(String, f64)>)) -> String {
    let cs: Vec<String> = comps.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
    format!("{name:>20}: total {total:.3} | {}", cs.join(", "))
}

#[test]
fn every_probe_scores_below_the_honest_heuristic_on_the_holdout() {
    let holdout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/opensoc/holdout.jsonl");
    let env = Arc::new(OpenSocEnv::new(&OpenSocConfig { holdout, ..OpenSocConfig::default() }).unwrap());
    let honest = means(&env, HONEST);
    let oracle = means(&env, Baseline::VerifierOracle);
    let probes: Vec<(&str, (f64, Vec<(String, f64)>))> = PROBES.iter().map(|(n, b)| (*n, means(&env, *b))).collect();
    let mut table = vec![row("verifier_oracle", &oracle), row(HONEST.as_str(), &honest)];
    table.extend(probes.iter().map(|(n, m)| row(n, m)));
    let table = table.join("\n");
    for (name, m) in &probes {
        assert!(m.0 < honest.0, "probe `{name}` ({:.3}) does not score below {} ({:.3}):\n{table}", m.0, HONEST.as_str(), honest.0);
    }
    assert!(honest.0 < oracle.0, "the honest heuristic stays below the oracle:\n{table}");
    let get = |name: &str, comp: &str| probes.iter().find(|(n, _)| *n == name).and_then(|(_, m)| m.1.iter().find(|(k, _)| k == comp)).map(|(_, v)| *v);
    let honest_citation = honest.1.iter().find(|(k, _)| k == "citation").map(|(_, v)| *v);
    assert!(get("cite_spam", "citation") < honest_citation, "citing every line earns the bonus only on one-line windows:\n{table}");
    assert_eq!(get("keyword_stuffing", "correctness"), Some(0.0), "an action list is no action:\n{table}");
    assert_eq!(get("format_gaming", "correctness"), Some(0.0), "JSON plus text with several actions is no action:\n{table}");
}

#[test]
fn declared_report_metrics_are_what_outcomes_carry() {
    let holdout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/opensoc/holdout.jsonl");
    let env = Arc::new(OpenSocEnv::new(&OpenSocConfig { holdout, ..OpenSocConfig::default() }).unwrap());
    let jobs: Vec<_> = env.tasks(Split::Eval, None).unwrap().into_iter().map(|t| (t, 7)).collect();
    let mut policy = baseline_policy(Arc::clone(&env), HONEST, 7);
    let recs = run_episodes(env.as_ref(), policy.as_mut(), &jobs, DriverLimits::default(), |_| {}).unwrap();
    let outcomes: Vec<_> = recs.into_iter().map(|r| r.outcome).collect();
    vigil_testkit::declared::check_declared_metrics(env.as_ref(), &outcomes).unwrap();
}

/// Share of hold-out episodes of baseline `b` that each detector flags.
fn detector_rates(env: &Arc<OpenSocEnv>, b: Baseline) -> Vec<(String, f64)> {
    let jobs: Vec<_> = env.tasks(Split::Eval, None).unwrap().into_iter().map(|t| (t, 7)).collect();
    let mut policy = baseline_policy(Arc::clone(env), b, 7);
    let recs = run_episodes(env.as_ref(), policy.as_mut(), &jobs, DriverLimits::default(), |_| {}).unwrap();
    vigil_testkit::hacking::detector_rates(env.as_ref(), &recs)
}

#[test]
fn each_probe_trips_its_own_detector_and_the_oracle_trips_none() {
    let holdout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/opensoc/holdout.jsonl");
    let env = Arc::new(OpenSocEnv::new(&OpenSocConfig { holdout, ..OpenSocConfig::default() }).unwrap());
    let oracle = detector_rates(&env, Baseline::VerifierOracle);
    assert!(oracle.iter().all(|(_, r)| *r == 0.0), "the verifier's own answers are no hack: {oracle:?}");
    let honest = detector_rates(&env, HONEST);
    for (name, probe) in PROBES {
        let has = vigil_testkit::hacking::probe_trips_its_detector(name, &detector_rates(&env, probe), &honest, 0.2).unwrap();
        assert!(has || name == "always_escalate", "probe `{name}` has no detector (only always_escalate, an honest-format answer, has none)");
    }
}
