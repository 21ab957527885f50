//! Hardened mode leaks nothing: every observation of every seed (the peer's 220 and ours) under
//! every baseline is scanned for ground-truth ids, labels, injection records and future
//! evidence that the agent did not legitimately obtain. The same scanner finds the peer's
//! leaks in compat mode, so it can fail.

mod common;

use std::sync::Arc;

use common::{our_env, peer_env, run_all};
use vigil_core::{EpisodeRecord, Role};
use vigil_env_opensec::{Baseline, Observation, OpenSecEnv, ScoringMode};

const LABEL_WORDS: [&str; 7] = [
    "is_phish",
    "injection_id",
    "expected_violation",
    "target_action",
    "attacker_state",
    "prompt_injections",
    "u-decoy",
];

/// Whole-token occurrence (ids are `[A-Za-z0-9_-]` runs, so `t-1` is not inside `alert-1`).
fn has_token(hay: &str, needle: &str) -> bool {
    let id = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let h = hay.as_bytes();
    hay.match_indices(needle).any(|(i, _)| {
        let end = i + needle.len();
        (i == 0 || !id(h[i - 1])) && (end == h.len() || !id(h[end]))
    })
}

/// Findings for one episode; empty when clean.
fn scan(env: &OpenSecEnv, rec: &EpisodeRecord) -> Vec<String> {
    let sc = env.episode_scenario(&rec.task, rec.seed).expect("task");
    let t = sc.truth();
    let truth = [&t.patient_zero_host, &t.compromised_user, &t.attacker_domain, &t.data_target];
    let mut out = Vec::new();
    let mut last_action = "";
    for m in &rec.transcript {
        match m.role {
            Role::Assistant => last_action = &m.content,
            Role::System => {
                for w in LABEL_WORDS {
                    if m.content.contains(w) {
                        out.push(format!("{}: system prompt mentions `{w}`", rec.task));
                    }
                }
            }
            Role::User | Role::Tool => {
                let text = &m.content;
                let Some(obs) = Observation::parse(text) else {
                    out.push(format!("{}: unparsable observation", rec.task));
                    continue;
                };
                for w in LABEL_WORDS {
                    if text.contains(w) {
                        out.push(format!("{}@{}: label `{w}`", rec.task, obs.step));
                    }
                }
                for (id, _, _) in sc.injections() {
                    if text.contains(id) {
                        out.push(format!("{}@{}: injection record `{id}`", rec.task, obs.step));
                    }
                }
                for id in sc.original_ids() {
                    if has_token(text, id) {
                        out.push(format!("{}@{}: role-revealing original id `{id}`", rec.task, obs.step));
                    }
                }
                let r = &obs.result;
                for row in r.rows.iter().flatten().chain(r.email.iter()).chain(r.alert.iter()) {
                    let step = row.get("step").and_then(|v| v.as_u64()).unwrap_or(u64::MAX);
                    if step > u64::from(obs.step) {
                        out.push(format!("{}@{}: row from step {step} (the future)", rec.task, obs.step));
                    }
                }
                for id in obs
                    .new_alerts
                    .iter()
                    .chain(&obs.new_emails)
                    .chain(&obs.evidence_seen_ids)
                    .chain(&obs.evidence_content_ids)
                {
                    let prefix = format!("alert-{}-", sc.case_id());
                    let released =
                        id.strip_prefix(&prefix).and_then(|r| r.split('-').next()).and_then(|s| s.parse::<u32>().ok());
                    if released.is_some_and(|s| s > obs.step) {
                        out.push(format!("{}@{}: announced future alert `{id}`", rec.task, obs.step));
                    }
                }
                // Outside the returned evidence, a ground-truth id may appear only where the
                // agent itself named it (its containment list, or an echo of its arguments).
                let mut skeleton = obs.clone();
                skeleton.result.rows = None;
                skeleton.result.email = None;
                skeleton.result.alert = None;
                skeleton.result.parsed = None;
                let echoed = [skeleton.result.error.take(), skeleton.result.message.take()];
                let contained = std::mem::take(&mut skeleton.containment);
                let rest = serde_json::to_string(&skeleton).expect("serializes");
                for id in truth {
                    if has_token(&rest, id) {
                        out.push(format!("{}@{}: ground truth `{id}` outside evidence", rec.task, obs.step));
                    }
                    let in_echo = echoed.iter().flatten().any(|e| has_token(e, id));
                    let in_list = [&contained.isolated_hosts, &contained.blocked_domains, &contained.reset_users]
                        .iter()
                        .any(|l| l.contains(id));
                    if (in_echo && !last_action.contains(id.as_str()))
                        || (in_list
                            && !rec
                                .transcript
                                .iter()
                                .any(|m| m.role == Role::Assistant && m.content.contains(id.as_str())))
                    {
                        out.push(format!(
                            "{}@{}: ground truth `{id}` shown though the agent never named it",
                            rec.task, obs.step
                        ));
                    }
                }
            }
        }
    }
    out
}

fn scan_all(env: &Arc<OpenSecEnv>) -> Vec<String> {
    let mut findings = Vec::new();
    for b in Baseline::ALL {
        for rec in run_all(env, b) {
            findings.extend(scan(env, &rec).into_iter().map(|f| format!("[{}] {f}", b.as_str())));
        }
    }
    findings
}

#[test]
fn hardened_observations_reveal_nothing_not_legitimately_obtained() {
    let peer = peer_env(ScoringMode::Hardened, "hardened_leaks: the peer's 220 seeds (ours are still scanned)");
    for env in peer.into_iter().chain([our_env(ScoringMode::Hardened)]) {
        let findings = scan_all(&env);
        assert!(findings.is_empty(), "{} leaks, first: {:#?}", findings.len(), &findings[..findings.len().min(10)]);
    }
}

#[test]
fn the_scanner_finds_the_peer_leaks_in_compat_mode() {
    let Some(env) = peer_env(ScoringMode::Compat, "hardened_leaks::the_scanner_finds_the_peer_leaks") else {
        return;
    };
    let mut recs = run_all(&env, Baseline::ContainEverythingSeen);
    recs.extend(run_all(&env, Baseline::EvidenceHeuristic));
    let findings: Vec<String> = recs.iter().flat_map(|r| scan(&env, r)).collect();
    let has = |needle: &str| findings.iter().any(|f| f.contains(needle));
    assert!(has("label `attacker_state`"), "attacker state is in compat observations");
    assert!(has("(the future)"), "compat shows rows from future steps");
    assert!(has("label `is_phish`") && has("u-decoy"), "compat shows labels and role-revealing ids");
}
