//! Per-episode renaming (issue 22): in hardened mode every id an agent sees is drawn from the
//! episode seed, so two episodes of one task share no answer, the same seed replays the same
//! ids, and the oracle (which goes through the same mapping) scores the same in every episode.
//! Also: a hidden table answers exactly like a table that does not exist.

mod common;

use std::sync::Arc;

use common::{our_env, peer_env};
use vigil_core::{DriverLimits, Environment, Split, Step, TaskId, run_episodes};
use vigil_env_opensec::{Baseline, ScoringMode, baseline_policy};

fn prompt_text(env: &dyn Environment, task: &TaskId, seed: u64) -> String {
    env.start(task, seed).unwrap().prompt().iter().map(|m| m.content.clone()).collect()
}

fn answers(env: &vigil_env_opensec::OpenSecEnv, task: &TaskId, seed: u64) -> Vec<String> {
    let sc = env.episode_scenario(task, seed).unwrap();
    let t = sc.truth();
    vec![
        t.patient_zero_host.clone(),
        t.compromised_user.clone(),
        t.attacker_domain.clone(),
        t.data_target.clone(),
        sc.case_id().to_string(),
    ]
}

#[test]
fn resets_with_different_seeds_show_different_ids_and_the_same_seed_the_same() {
    let peer = peer_env(ScoringMode::Hardened, "episode_renaming: the peer's seeds (ours are still checked)");
    for env in std::iter::once(our_env(ScoringMode::Hardened)).chain(peer) {
        let tasks = env.tasks(Split::Eval, None).unwrap();
        for task in tasks.iter().take(20) {
            let (a, b, a2) = (answers(&env, task, 1), answers(&env, task, 2), answers(&env, task, 1));
            assert_eq!(a, a2, "{task}: the same seed replays the same ids");
            for (x, y) in a.iter().zip(&b) {
                assert_ne!(x, y, "{task}: `{x}` survives a reseed");
            }
            assert_eq!(prompt_text(env.as_ref(), task, 1), prompt_text(env.as_ref(), task, 1));
            let (p1, p2) = (prompt_text(env.as_ref(), task, 1), prompt_text(env.as_ref(), task, 2));
            assert_ne!(p1, p2);
            assert!(
                p1.contains(&a[4]) && !p1.contains(task.as_str()),
                "{task}: the prompt names the case, not the task"
            );
            for id in &b {
                assert!(!p1.contains(id.as_str()), "{task}: episode 1 shows episode 2's `{id}`");
            }
        }
    }
}

#[test]
fn compat_mode_keeps_the_peer_ids() {
    let Some(env) = peer_env(ScoringMode::Compat, "episode_renaming::compat_mode_keeps_the_peer_ids") else {
        return;
    };
    let task = TaskId::new("seed-001");
    assert_eq!(answers(&env, &task, 1), answers(&env, &task, 2));
}

#[test]
fn the_oracle_scores_the_same_under_renaming() {
    let peer = peer_env(ScoringMode::Hardened, "episode_renaming: the peer's seeds under renaming (ours are still checked)");
    for env in std::iter::once(our_env(ScoringMode::Hardened)).chain(peer) {
        let tasks = env.tasks(Split::Eval, None).unwrap();
        let mut totals = Vec::new();
        for seeds in [[0u64, 0], [1, 2], [99, 12345]] {
            let jobs: Vec<(TaskId, u64)> = tasks.iter().enumerate().map(|(i, t)| (t.clone(), seeds[i % 2])).collect();
            let mut oracle = baseline_policy(Arc::clone(&env), Baseline::Oracle, 0);
            let recs = run_episodes(env.as_ref(), oracle.as_mut(), &jobs, DriverLimits::default(), |_| {}).unwrap();
            let per_task: Vec<String> =
                recs.iter().map(|r| format!("{}={:.6}", r.task, r.outcome.rewards.sum())).collect();
            totals.push(per_task);
        }
        assert_eq!(totals[0], totals[1]);
        assert_eq!(totals[0], totals[2]);
    }
}

#[test]
fn exp_eval_style_runs_are_deterministic_per_seed() {
    let env = our_env(ScoringMode::Hardened);
    let jobs: Vec<(TaskId, u64)> = env.tasks(Split::Eval, None).unwrap().into_iter().map(|t| (t, 7)).collect();
    let run = || {
        let mut p = baseline_policy(Arc::clone(&env), Baseline::EvidenceHeuristic, 3);
        let recs = run_episodes(env.as_ref(), p.as_mut(), &jobs, DriverLimits::default(), |_| {}).unwrap();
        recs.into_iter().map(|r| r.transcript).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

/// The observation after one call, with the table name blanked.
fn answer_to(env: &dyn Environment, task: &TaskId, table: &str) -> (String, bool) {
    let mut ep = env.start(task, 5).unwrap();
    let call = format!(r#"{{"name": "query_logs", "arguments": {{"table": "{table}", "limit": 5}}}}"#);
    let obs = match ep.step(&call).unwrap() {
        Step::Continue { observation } => observation.content.replace(table, "TABLE"),
        Step::Done(_) => panic!("one query does not end the episode"),
    };
    let mut rest = ep;
    let report = r#"{"name": "submit_report", "arguments": {"summary_json": {}}}"#;
    let Step::Done(o) = rest.step(report).unwrap() else { panic!("report ends") };
    (obs, o.format_valid)
}

#[test]
fn a_hidden_table_answers_like_a_missing_one() {
    let env = our_env(ScoringMode::Hardened);
    let task = env.tasks(Split::Eval, None).unwrap()[0].clone();
    let hidden = answer_to(env.as_ref(), &task, "prompt_injections");
    let missing = answer_to(env.as_ref(), &task, "incident_notes");
    assert_eq!(hidden, missing);
    assert!(hidden.0.contains("unknown table `TABLE`"), "{}", hidden.0);
    let Some(compat) = peer_env(ScoringMode::Compat, "episode_renaming: the peer's catalogue table in compat mode") else {
        return;
    };
    let (obs, _) = answer_to(compat.as_ref(), &TaskId::new("seed-001"), "prompt_injections");
    assert!(obs.contains("\"rows\""), "compat keeps the peer's catalogue table: {obs}");
}
