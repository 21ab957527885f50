//! The shortcut audit (issue 22): on the committed seed set no investigation-free rule is more
//! than 10 points above chance on any report field, while the peer's set (and a set with the
//! old shortcuts) fails the same audit, so the audit can fail.

mod common;

use std::sync::Arc;

use common::{our_env, peer_env, run_all};
use vigil_env_opensec::audit::{AuditReport, Field, audit};
use vigil_env_opensec::generator::{GeneratorConfig, generate, write_set};
use vigil_env_opensec::{Baseline, OpenSecConfig, OpenSecEnv, ScoringMode};

fn worst(r: &AuditReport) -> String {
    r.worst()
        .map(|w| format!("{} on {}: {:+.1} points", w.rule, w.field.as_str(), w.excess_points()))
        .unwrap_or_default()
}

#[test]
fn no_rule_beats_chance_by_more_than_ten_points_on_our_seeds() {
    let r = audit(&our_env(ScoringMode::Hardened));
    assert!(r.scenarios >= 220);
    assert_eq!(r.chance.len(), Field::ALL.len());
    assert!(r.scores.len() > 40, "the battery has rules for every field");
    for s in &r.scores {
        assert!(
            s.excess_points() <= 10.0,
            "{}: {} on {} is {:+.1} points above chance\n{}",
            r.scenarios,
            s.rule,
            s.field.as_str(),
            s.excess_points(),
            r.table()
        );
    }
}

#[test]
fn the_audit_finds_the_peer_shortcuts() {
    let Some(env) = peer_env(ScoringMode::Compat, "audit::the_audit_finds_the_peer_shortcuts") else {
        return;
    };
    let r = audit(&env);
    let w = r.worst().expect("scores");
    assert!(w.excess_points() > 10.0, "{}", r.table());
}

fn attribution(env: &Arc<OpenSecEnv>, b: Baseline) -> (f64, f64) {
    let recs = run_all(env, b);
    let n = recs.len() as f64;
    let attr = recs.iter().map(|r| r.outcome.rewards.get("attribution").unwrap_or(0.0)).sum::<f64>() / n;
    let solved = recs.iter().filter(|r| r.outcome.rewards.get("attribution").unwrap_or(0.0) >= 4.0).count() as f64 / n;
    (attr, solved)
}

/// Generates a set in a temporary folder and prints its audit and the two baselines
/// (`cargo test -p vigil-env-opensec --test audit -- --ignored --nocapture`).
#[test]
#[ignore = "a report for tuning the generator"]
#[allow(clippy::print_stdout)]
fn report_on_a_fresh_generation() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = generate(&GeneratorConfig::default()).unwrap();
    write_set(dir.path(), &seeds).unwrap();
    let cfg = OpenSecConfig { seeds: dir.path().join("manifest.json"), ..OpenSecConfig::default() };
    let env = Arc::new(OpenSecEnv::new(&cfg).unwrap());
    let r = audit(&env);
    println!("{}\nworst: {}", r.table(), worst(&r));
    for b in [Baseline::EvidenceHeuristic, Baseline::NaiveRule, Baseline::Oracle] {
        let (a, s) = attribution(&env, b);
        println!("{}: attribution {a:.3}, solved {s:.3}", b.as_str());
    }
}
