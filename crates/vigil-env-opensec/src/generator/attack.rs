//! The attack of a generated scenario: its rows stage by stage, and the attack graph that writes
//! them when the mock attacker reaches each stage.

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;

use super::artifacts::{Artifacts, action_artifact};
use super::cast::Cast;
use super::chain::{self, Actor, Draft};
use crate::seed::{ArtifactType, AttackGraph, Effects, GraphAction, GraphState, LogTable, Requires};

/// The attack's stages, in order: state, the mock attacker's action in it, the next state.
pub(super) const STAGES: [(&str, &str, &str); 7] = [
    ("recon", "send_phish", "access"),
    ("access", "reuse_credentials", "persistence"),
    ("persistence", "establish_persistence", "lateral_spread"),
    ("lateral_spread", "lateral_move", "staging"),
    ("staging", "stage_data", "exfil"),
    ("exfil", "exfiltrate", "done"),
    ("done", "wait", "done"),
];

/// The attack's rows.
pub(super) struct AttackRows {
    /// The initial vector's delivery (before the compromise; always at step 0).
    pub(super) delivery: Vec<Draft>,
    /// Each stage's rows, in [`STAGES`] order.
    pub(super) stages: Vec<Vec<Draft>>,
    /// Every attack row, the phishing sender included: what the background is measured against.
    pub(super) all: Vec<Draft>,
}

impl AttackRows {
    /// Rows on patient zero before step 1 when the attacker starts in stage `start`.
    pub(super) fn before(&self, start: usize) -> usize {
        self.delivery.len() + self.stages[..start].iter().map(Vec::len).sum::<usize>()
    }
}

/// Draws the rows of an attack through `vector` by `cast`'s attacker.
pub(super) fn rows(rng: &mut ChaCha8Rng, vector: &str, cast: &Cast) -> AttackRows {
    let (pz, h2, ad, t) = (&cast.patient_zero, &cast.lateral_host, &cast.attacker_domain, &cast.target);
    let me = Actor { host: pz, user: &cast.user };
    let (delivery, compromise) = chain::trail(rng, vector, me, ad);
    let lateral = chain::flow_to_host(rng, pz, h2);
    let stages: Vec<Vec<Draft>> = vec![
        compromise,
        [vec![chain::remote_login(rng, me), chain::discovery(me, t)], chain::beacon(rng, pz, ad)].concat(),
        vec![chain::persistence(me)],
        vec![lateral],
        vec![chain::staging(Actor { host: h2, user: &cast.user }, t)],
        chain::exfil(rng, h2, ad, t),
        vec![],
    ];
    let mut all: Vec<Draft> = delivery.iter().chain(stages.iter().flatten()).cloned().collect();
    if vector == "phish" {
        // The phishing email names the attacker's domain too.
        all.push(Draft { table: LogTable::EmailLogs, body: format!("sender@{ad}"), trust: "untrusted" });
    }
    AttackRows { delivery, stages, all }
}

/// The attack graph starting in stage `start`: each stage's action writes that stage's rows.
/// Takes the initial artifacts written so far.
pub(super) fn graph(
    rng: &mut ChaCha8Rng,
    out: &mut Artifacts,
    stages: &[Vec<Draft>],
    cast: &Cast,
    start: usize,
) -> AttackGraph {
    let (pz, h2, cu) = (&cast.patient_zero, &cast.lateral_host, &cast.user);
    let foothold = Effects {
        has_creds: Some(true),
        compromise_user: Some(cu.clone()),
        compromise_host: Some(pz.clone()),
        current_user: Some(cu.clone()),
        current_host: Some(pz.clone()),
        ..Effects::default()
    };
    let mut states = BTreeMap::new();
    for (i, (state, action, next)) in STAGES.iter().enumerate() {
        let artifacts: Vec<_> = stages[i]
            .iter()
            .map(|d| {
                let tid = out.template(rng, d.clone(), None);
                let kind = if d.table == LogTable::Alerts { ArtifactType::Alert } else { ArtifactType::LogTemplate };
                action_artifact(kind, &tid)
            })
            .collect();
        let (requires, effects) = match *action {
            "send_phish" | "reuse_credentials" => (Requires::default(), foothold.clone()),
            "establish_persistence" => {
                (Requires::default(), Effects { has_persistence: Some(true), ..foothold.clone() })
            }
            "lateral_move" => (
                Requires { foothold: Some(true), ..Requires::default() },
                Effects {
                    has_admin: Some(true),
                    compromise_host: Some(h2.clone()),
                    current_host: Some(h2.clone()),
                    ..Effects::default()
                },
            ),
            "stage_data" => (
                Requires { has_admin: Some(true), ..Requires::default() },
                Effects { has_stage: Some(true), current_target: Some(cast.target.clone()), ..Effects::default() },
            ),
            "exfiltrate" => (
                Requires { has_stage: Some(true), ..Requires::default() },
                Effects { current_exfil_domain: Some(cast.attacker_domain.clone()), ..Effects::default() },
            ),
            _ => (Requires::default(), Effects::default()),
        };
        let mut match_params = BTreeMap::new();
        if *action == "lateral_move" {
            match_params.insert("dst".to_string(), h2.clone());
        }
        let ga = GraphAction {
            action_type: (*action).into(),
            next_state: Some((*next).into()),
            requires,
            match_params,
            effects,
            artifacts,
        };
        states.insert(state.to_string(), GraphState { actions: vec![ga] });
    }
    let initial = std::mem::take(&mut out.initial);
    AttackGraph { start_state: STAGES[start].0.into(), objectives: None, initial_artifacts: initial, states }
}
