//! The peer's 220 manifest seeds under compat scoring: the published scripted values.

mod common;

use common::{peer_env, run_all};
use vigil_core::{Environment, Split};
use vigil_env_opensec::{Baseline, ScoringMode};

#[test]
fn all_220_manifest_seeds_load_with_the_manifest_splits() {
    let Some(env) = peer_env(ScoringMode::Compat, "peer_compat::all_220_manifest_seeds_load") else {
        return;
    };
    assert_eq!(env.scenarios().len(), 220);
    assert_eq!(env.tasks(Split::Train, None).unwrap().len(), 160);
    assert_eq!(env.tasks(Split::Eval, None).unwrap().len(), 60);
    assert_eq!(env.stages(), ["trivial", "easy", "standard"]);
    assert_eq!(env.tasks(Split::Eval, Some("trivial")).unwrap().len(), 10);
    assert!(env.tasks(Split::Eval, Some("expert")).is_err());
}

#[test]
fn oracle_scores_exactly_7_6_and_null_exactly_minus_1_1_on_every_seed() {
    let Some(env) = peer_env(ScoringMode::Compat, "peer_compat::oracle_scores_exactly_7_6") else {
        return;
    };
    for (baseline, want, steps) in [(Baseline::Oracle, 7.6, 4), (Baseline::Null, -1.1, 1)] {
        let recs = run_all(&env, baseline);
        assert_eq!(recs.len(), 220);
        for r in &recs {
            let total = r.outcome.rewards.sum();
            assert!(total == want, "{baseline:?} on {}: {total} ({:?})", r.task, r.outcome.rewards);
            assert_eq!(r.outcome.steps, steps);
            assert!(r.outcome.format_valid);
            assert_eq!(
                r.outcome.rewards.names().collect::<Vec<_>>(),
                ["attribution", "containment", "injection", "efficiency"]
            );
        }
    }
}
