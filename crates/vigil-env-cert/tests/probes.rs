//! Reward-hacking probes on the eval split of `configs/cert-probes.toml` (dev_balanced_50):
//! every probe's mean total stays below the honest rule-based baseline's (issue 10). A probe
//! that beats it is a rubric bug to fix in `reward.rs`/`answer.rs`, never a probe to weaken.

use std::path::Path;
use std::sync::Arc;

use vigil_core::{DriverLimits, Environment, Split, run_episodes};
use vigil_env_cert::probes::{HONEST, PROBES};
use vigil_env_cert::{Baseline, CertConfig, CertEnv, baseline_policy};

type Means = (f64, Vec<(String, f64)>);

fn config_file(name: &str) -> toml::Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs").join(name);
    toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The `[env]` body of `configs/cert-probes.toml` (the split `exp eval` runs the probes on),
/// which must be the one `configs/cert-baselines.toml` evaluates the honest baselines on.
fn config() -> CertConfig {
    let (probes, baselines) = (config_file("cert-probes.toml"), config_file("cert-baselines.toml"));
    assert_eq!(
        probes.get("env"),
        baselines.get("env"),
        "cert-probes.toml and cert-baselines.toml evaluate the same [env]"
    );
    let mut env = probes.get("env").and_then(|v| v.as_table().cloned()).expect("[env]");
    assert_eq!(env.remove("kind").and_then(|k| k.as_str().map(str::to_string)).as_deref(), Some("cert"));
    env.try_into().unwrap()
}

/// Mean of each component and of their unweighted sum over the eval split.
fn means(env: &Arc<CertEnv>, b: Baseline) -> Means {
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

fn row(name: &str, (total, comps): &Means) -> String {
    let cs: Vec<String> = comps.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
    format!("{name:>18}: total {total:.3} | {}", cs.join(", "))
}

fn comp(m: &Means, name: &str) -> f64 {
    m.1.iter().find(|(k, _)| k == name).map_or(f64::NAN, |(_, v)| *v)
}

#[test]
fn every_probe_scores_below_the_rule_based_baseline_on_dev_balanced_50() {
    let env = Arc::new(CertEnv::new(&config()).unwrap());
    assert_eq!(env.tasks(Split::Eval, None).unwrap().len(), 50, "dev_balanced_50");
    let honest = means(&env, HONEST);
    let oracle = means(&env, Baseline::Oracle);
    let probes: Vec<(&str, Means)> = PROBES.iter().map(|(n, b)| (*n, means(&env, *b))).collect();
    let mut table = vec![row("oracle", &oracle), row(HONEST.name(), &honest)];
    table.extend(probes.iter().map(|(n, m)| row(n, m)));
    let table = table.join("\n");
    for (name, m) in &probes {
        assert!(
            m.0 < honest.0,
            "probe `{name}` ({:.3}) does not score below {} ({:.3}):\n{table}",
            m.0,
            HONEST.name(),
            honest.0
        );
    }
    assert!(honest.0 < oracle.0, "the rules stay below the oracle:\n{table}");
    let get = |name: &str| &probes.iter().find(|(n, _)| *n == name).unwrap().1;
    assert!(
        comp(get("cite_spam"), "evidence") < comp(&honest, "evidence"),
        "citing every event dilutes precision:\n{table}"
    );
    assert_eq!(comp(get("format_gaming"), "label"), 0.0, "several labels in one answer are no label:\n{table}");
    assert_eq!(comp(get("long_output"), "length"), 0.0, "thousands of words earn no length reward:\n{table}");
}

/// Probes are selectable by their serde (config) names, are not in the honest list, and
/// `configs/cert-probes.toml` evaluates every one of them.
#[test]
fn probes_have_config_names_and_the_config_runs_them_all() {
    let cfg = config_file("cert-probes.toml");
    let listed: Vec<&str> = cfg["eval"]["baselines"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    for (_, b) in PROBES {
        let back: Baseline = serde_json::from_value(serde_json::Value::String(b.name().into())).unwrap();
        assert_eq!(back, b);
        assert!(!Baseline::ALL.contains(&b));
        assert!(listed.contains(&b.name()), "cert-probes.toml runs `{}`", b.name());
    }
}

#[test]
fn each_probe_trips_its_own_detector_and_the_oracle_trips_none() {
    let env = Arc::new(CertEnv::new(&config()).unwrap());
    let rates = |b: Baseline| {
        let jobs: Vec<_> = env.tasks(Split::Eval, None).unwrap().into_iter().map(|t| (t, 7)).collect();
        let mut policy = baseline_policy(Arc::clone(&env), b, 7);
        let recs = run_episodes(env.as_ref(), policy.as_mut(), &jobs, DriverLimits::default(), |_| {}).unwrap();
        vigil_testkit::hacking::detector_rates(env.as_ref(), &recs)
    };
    let oracle = rates(Baseline::Oracle);
    assert!(oracle.iter().all(|(_, r)| *r == 0.0), "the answer key is no hack: {oracle:?}");
    let honest = rates(HONEST);
    for (name, probe) in PROBES {
        assert!(vigil_testkit::hacking::probe_trips_its_detector(name, &rates(probe), &honest, 0.2).unwrap(), "probe `{name}` has no detector");
    }
}
