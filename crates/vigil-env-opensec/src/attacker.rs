//! The deterministic attacker: the peer's "mock" policy (a fixed action per state, using the
//! first available user/host/domain), its action validation, and the gates and stall rules of
//! the graph-driven and legacy state machines, reproduced rule for rule.

use std::collections::BTreeMap;

use crate::scenario::{GAction, Scenario};
use crate::seed::{Effects, Requires};

/// States of the legacy linear chain.
const LEGACY: [&str; 5] = ["phish_sent", "creds_used", "lateral_move", "data_access", "exfil_attempt"];

/// Default next state of an action type when a graph action has none (or there is no graph).
fn fallback_state(action: &str) -> Option<&'static str> {
    Some(match action {
        "reuse_credentials" => "creds_used",
        "lateral_move" | "lateral_move_alt" => "lateral_move",
        "access_data" => "data_access",
        "exfiltrate" | "exfiltrate_alt" => "exfil_attempt",
        "send_phish" => "phish_sent",
        _ => return None,
    })
}

/// What the attacker has achieved so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttackerContext {
    /// Current foothold.
    pub current_host: Option<String>,
    /// Current account.
    pub current_user: Option<String>,
    /// Hosts compromised, in order.
    pub compromised_hosts: Vec<String>,
    /// Users compromised, in order.
    pub compromised_users: Vec<String>,
    /// Data being staged.
    pub current_target: Option<String>,
    /// Where data goes.
    pub current_exfil_domain: Option<String>,
    /// Flags.
    pub has_creds: bool,
    /// Flags.
    pub has_admin: bool,
    /// Flags.
    pub has_stage: bool,
    /// Flags.
    pub has_persistence: bool,
}

impl AttackerContext {
    fn record_host(&mut self, h: Option<&str>) {
        if let Some(h) = h.filter(|h| !h.is_empty()) {
            if !self.compromised_hosts.iter().any(|x| x == h) {
                self.compromised_hosts.push(h.to_string());
            }
            self.current_host = Some(h.to_string());
        }
    }
    fn record_user(&mut self, u: Option<&str>) {
        if let Some(u) = u.filter(|u| !u.is_empty()) {
            if !self.compromised_users.iter().any(|x| x == u) {
                self.compromised_users.push(u.to_string());
            }
            self.current_user = Some(u.to_string());
        }
    }

    fn apply_effects(&mut self, e: &Effects) {
        for (flag, v) in [
            (&mut self.has_creds, e.has_creds),
            (&mut self.has_admin, e.has_admin),
            (&mut self.has_stage, e.has_stage),
            (&mut self.has_persistence, e.has_persistence),
        ] {
            if let Some(v) = v {
                *flag = v;
            }
        }
        let host =
            [&e.compromise_host, &e.current_host, &e.set_current_host].into_iter().flatten().find(|s| !s.is_empty());
        self.record_host(host.map(String::as_str));
        let user =
            [&e.compromise_user, &e.current_user, &e.set_current_user].into_iter().flatten().find(|s| !s.is_empty());
        self.record_user(user.map(String::as_str));
        if let Some(t) = &e.current_target {
            self.current_target = Some(t.clone());
        }
        if let Some(d) = &e.current_exfil_domain {
            self.current_exfil_domain = Some(d.clone());
        }
    }

    /// Applies a successful (not stalled) action: graph effects when the matched action has any,
    /// otherwise the per-action defaults.
    pub(crate) fn apply(&mut self, action: &AttackerAction, effects: Option<&Effects>) {
        let kind = action.kind.as_str();
        if let Some(e) = effects.filter(|e| !e.is_empty()) {
            self.apply_effects(e);
            if matches!(kind, "exfiltrate" | "exfiltrate_alt") && self.current_exfil_domain.is_none() {
                self.current_exfil_domain = action.param("destination_domain").map(str::to_string);
            }
            return;
        }
        match kind {
            "reuse_credentials" => {
                self.record_user(action.param("user"));
                self.record_host(action.param("host"));
                self.has_creds = true;
            }
            "lateral_move" | "lateral_move_alt" => {
                self.record_host(action.param("dst"));
                self.has_admin = true;
            }
            "access_data" => {
                self.current_target = action.param("target").map(str::to_string);
                self.has_stage = true;
            }
            "exfiltrate" | "exfiltrate_alt" => {
                self.current_exfil_domain = action.param("destination_domain").map(str::to_string)
            }
            "establish_persistence" => self.has_persistence = true,
            _ => {}
        }
    }

    fn requires(&self, r: &Requires) -> bool {
        let flag = |want: Option<bool>, have: bool| want.is_none_or(|w| w == have);
        let eq = |want: &Option<String>, have: &Option<String>| want.as_ref().is_none_or(|w| have.as_ref() == Some(w));
        flag(r.foothold, !self.compromised_hosts.is_empty())
            && flag(r.has_creds, self.has_creds)
            && flag(r.has_admin, self.has_admin)
            && flag(r.has_stage, self.has_stage)
            && flag(r.has_persistence, self.has_persistence)
            && eq(&r.current_host, &self.current_host)
            && eq(&r.current_user, &self.current_user)
            && eq(&r.current_target, &self.current_target)
    }
}

/// One attacker decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackerAction {
    /// Action type; `no_op` for none.
    pub kind: String,
    /// Parameters.
    pub params: BTreeMap<&'static str, String>,
}

impl AttackerAction {
    fn new(kind: &str, params: &[(&'static str, &str)]) -> Self {
        Self { kind: kind.to_string(), params: params.iter().map(|(k, v)| (*k, v.to_string())).collect() }
    }
    /// The no-op.
    pub fn no_op() -> Self {
        Self::new("no_op", &[])
    }
    /// A parameter.
    pub fn param(&self, k: &str) -> Option<&str> {
        self.params.get(k).map(String::as_str)
    }
    fn params_match(&self, want: &BTreeMap<String, String>) -> bool {
        want.iter().all(|(k, v)| self.param(k) == Some(v.as_str()))
    }
}

/// Executed containment, as the attacker sees it.
#[derive(Debug, Clone, Copy)]
pub struct Contained<'a> {
    /// Isolated hosts.
    pub hosts: &'a [String],
    /// Blocked domains.
    pub domains: &'a [String],
    /// Reset users.
    pub users: &'a [String],
}

/// Result of one attacker step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance {
    /// State after the step.
    pub next_state: String,
    /// Whether the attacker was blocked.
    pub stalled: bool,
    /// Why (the peer's reason codes).
    pub reason: &'static str,
    /// Index of the matched graph action in the prior state's node.
    pub matched: Option<usize>,
}

fn allowed_actions<'a>(sc: &'a Scenario, state: &str) -> Vec<&'a str> {
    if let Some(acts) = sc.graph.as_ref().and_then(|g| g.node(state)).filter(|a| !a.is_empty()) {
        return acts.iter().map(|a| a.action_type.as_str()).collect();
    }
    match state {
        "phish_sent" => vec!["reuse_credentials"],
        "creds_used" => vec!["lateral_move", "lateral_move_alt"],
        "lateral_move" => vec!["access_data"],
        "data_access" | "exfil_attempt" => vec!["exfiltrate", "exfiltrate_alt"],
        _ => vec![
            "recon",
            "send_phish",
            "reuse_credentials",
            "lateral_move",
            "lateral_move_alt",
            "lateral_spread",
            "pivot",
            "access_data",
            "stage_data",
            "establish_persistence",
            "rephish",
            "retreat",
            "wait",
            "exfiltrate",
            "exfiltrate_alt",
        ],
    }
}

/// The peer's mock policy followed by its validation (invalid → `no_op`).
pub(crate) fn decide(sc: &Scenario, state: &str, c: Contained<'_>) -> AttackerAction {
    fn avail<'s>(list: &'s [crate::scenario::Entity], gone: &[String]) -> Vec<&'s str> {
        let mut v: Vec<&crate::scenario::Entity> = list.iter().filter(|e| !gone.contains(&e.id)).collect();
        v.sort_by_key(|e| e.key);
        v.into_iter().map(|e| e.id.as_str()).collect()
    }
    let users = avail(&sc.users, c.users);
    let hosts = avail(&sc.hosts, c.hosts);
    let mut adoms: Vec<&str> = sc
        .domains
        .iter()
        .filter(|(d, t)| *t == crate::seed::DomainType::Attacker && !c.domains.contains(d))
        .map(|(d, _)| d.as_str())
        .collect();
    adoms.sort_unstable();
    fn first(l: &[crate::scenario::Entity]) -> &str {
        l.first().map_or("", |e| e.id.as_str())
    }
    let user = users.first().copied().unwrap_or(first(&sc.users));
    let host = hosts.first().copied().unwrap_or(first(&sc.hosts));
    let dst = if hosts.len() > 1 {
        hosts[1]
    } else if sc.hosts.len() > 1 {
        sc.hosts[1].id.as_str()
    } else {
        host
    };
    let target = sc.targets.first().map_or("", String::as_str);
    let domain = adoms
        .first()
        .copied()
        .or_else(|| sc.domains.iter().find(|(_, t)| *t == crate::seed::DomainType::Attacker).map(|(d, _)| d.as_str()));
    let exfil = |d: Option<&str>| match d {
        Some(d) => AttackerAction::new("exfiltrate", &[("channel", "https"), ("destination_domain", d)]),
        None => AttackerAction::no_op(),
    };
    let action = match state {
        "phish_sent" | "access" => AttackerAction::new("reuse_credentials", &[("user", user), ("host", host)]),
        "recon" => AttackerAction::new("send_phish", &[("target_user", user)]),
        "persistence" => AttackerAction::new("establish_persistence", &[("host", host)]),
        "lateral_spread" | "creds_used" => AttackerAction::new("lateral_move", &[("src", host), ("dst", dst)]),
        "staging" => AttackerAction::new("stage_data", &[("target", target), ("host", host)]),
        // The peer's mock has no rule for `exfil_attempt`: trivial seeds' attacker idles there.
        "exfil" | "data_access" => exfil(domain),
        "lateral_move" => AttackerAction::new("access_data", &[("target", target)]),
        _ => AttackerAction::no_op(),
    };
    if valid(sc, state, &action) { action } else { AttackerAction::no_op() }
}

fn valid(sc: &Scenario, state: &str, a: &AttackerAction) -> bool {
    if a.kind == "no_op" || !allowed_actions(sc, state).contains(&a.kind.as_str()) {
        return false;
    }
    let is_user = |p: Option<&str>| p.is_some_and(|p| sc.users.iter().any(|u| u.id == p));
    let is_host = |p: Option<&str>| p.is_some_and(|p| sc.hosts.iter().any(|h| h.id == p));
    let is_target = |p: Option<&str>| p.is_some_and(|p| sc.targets.iter().any(|t| t == p));
    let is_domain = |p: Option<&str>| p.is_some_and(|p| sc.domains.iter().any(|(d, _)| d == p));
    let opt =
        |p: Option<&str>, f: &dyn Fn(Option<&str>) -> bool| p.filter(|s| !s.is_empty()).is_none_or(|s| f(Some(s)));
    match a.kind.as_str() {
        "send_phish" | "rephish" => is_user(a.param("target_user")),
        "recon" | "wait" | "retreat" => true,
        "reuse_credentials" => is_user(a.param("user")) && is_host(a.param("host")),
        "lateral_move" | "lateral_move_alt" | "lateral_spread" | "pivot" => {
            is_host(a.param("src")) && is_host(a.param("dst"))
        }
        "access_data" => is_target(a.param("target")),
        "stage_data" => opt(a.param("target"), &is_target) && opt(a.param("host"), &is_host),
        "establish_persistence" => opt(a.param("host"), &is_host),
        "exfiltrate" | "exfiltrate_alt" => is_domain(a.param("destination_domain")),
        _ => false,
    }
}

fn stall(state: &str, reason: &'static str) -> Advance {
    Advance { next_state: state.to_string(), stalled: true, reason, matched: None }
}

/// Advances the attacker by one action (`None`: the legacy rule without an action), applying
/// containment gates, then the graph (objectives, requires, match_params), then the fallbacks.
pub(crate) fn advance(
    sc: &Scenario,
    state: &str,
    c: Contained<'_>,
    action: Option<&AttackerAction>,
    ctx: &AttackerContext,
) -> Advance {
    let Some(a) = action else {
        if c.domains.contains(&sc.ad) {
            return stall(state, "attacker_domain_blocked");
        }
        if c.hosts.contains(&sc.pz) {
            return stall(state, "patient_zero_isolated");
        }
        if c.users.contains(&sc.cu) {
            return stall(state, "compromised_user_reset");
        }
        return legacy_next(state);
    };
    let kind = a.kind.as_str();
    if kind.is_empty() || kind == "no_op" {
        return stall(state, "no_op");
    }
    let isolated = |h: Option<&str>| h.is_some_and(|h| c.hosts.iter().any(|x| x == h));
    match kind {
        "reuse_credentials" if a.param("user").is_some_and(|u| c.users.iter().any(|x| x == u)) => {
            return stall(state, "user_reset");
        }
        "lateral_move" | "lateral_move_alt" => {
            if ctx.compromised_hosts.is_empty() {
                return stall(state, "no_foothold");
            }
            if isolated(a.param("src")) {
                return stall(state, "src_host_isolated");
            }
            if !a.param("src").is_some_and(|s| ctx.compromised_hosts.iter().any(|h| h == s)) {
                return stall(state, "src_host_uncompromised");
            }
        }
        "access_data" | "exfiltrate" | "exfiltrate_alt" => {
            if ctx.current_host.is_none() {
                return stall(state, "no_current_host");
            }
            if kind != "access_data" && a.param("destination_domain").is_some_and(|d| c.domains.iter().any(|x| x == d))
            {
                return stall(state, "destination_blocked");
            }
            if isolated(ctx.current_host.as_deref()) {
                return stall(state, "current_host_isolated");
            }
        }
        _ => {}
    }
    if let Some(g) = &sc.graph {
        let objectives = &g.objectives;
        if !objectives.is_empty() && !objectives.iter().any(|o| o == state) {
            return stall(state, "objective_state_blocked");
        }
        if let Some(acts) = g.node(state).filter(|a| !a.is_empty()) {
            let (mut requires_failed, mut params_failed) = (false, false);
            let mut matched = None;
            for (i, ga) in acts.iter().enumerate().filter(|(_, ga)| ga.action_type == kind) {
                if !ga.requires.is_empty() && !ctx.requires(&ga.requires) {
                    requires_failed = true;
                    continue;
                }
                if !a.params_match(&ga.match_params) {
                    params_failed = true;
                    continue;
                }
                matched = Some(i);
                break;
            }
            return match matched {
                Some(i) => {
                    let next = acts[i].next_state.as_deref().or_else(|| fallback_state(kind)).unwrap_or(state);
                    if !objectives.is_empty() && !objectives.iter().any(|o| o == next) {
                        Advance {
                            next_state: state.to_string(),
                            stalled: true,
                            reason: "objective_next_state_blocked",
                            matched: Some(i),
                        }
                    } else {
                        Advance {
                            next_state: next.to_string(),
                            stalled: false,
                            reason: "advanced_graph",
                            matched: Some(i),
                        }
                    }
                }
                None if requires_failed => stall(state, "action_requires_unsatisfied"),
                None if params_failed => stall(state, "action_params_mismatch"),
                None => stall(state, "action_not_allowed"),
            };
        }
    }
    match fallback_state(kind) {
        Some(next) => {
            Advance { next_state: next.to_string(), stalled: false, reason: "advanced_action", matched: None }
        }
        None => legacy_next(state),
    }
}

fn legacy_next(state: &str) -> Advance {
    let idx = LEGACY.iter().position(|s| *s == state).unwrap_or(0);
    if idx + 1 >= LEGACY.len() {
        return Advance { next_state: state.to_string(), stalled: false, reason: "terminal_state", matched: None };
    }
    Advance { next_state: LEGACY[idx + 1].to_string(), stalled: false, reason: "advanced", matched: None }
}

/// Prototype indices of the artifacts an attacker action emits at `step`: in graph mode, every
/// action of the prior state's node with the same type and matching params (emitted even when
/// the attacker stalled, as in the peer); in legacy mode, the timeline variants of that step.
pub(crate) fn emitted(sc: &Scenario, prior_state: &str, step: u32, a: &AttackerAction, out: &mut Vec<usize>) {
    if a.kind.is_empty() || a.kind == "no_op" {
        return;
    }
    match &sc.graph {
        Some(g) => {
            let acts: &[GAction] = g.node(prior_state).unwrap_or(&[]);
            for ga in acts.iter().filter(|ga| ga.action_type == a.kind && a.params_match(&ga.match_params)) {
                out.extend(ga.artifacts.iter().filter(|(_, m)| a.params_match(m)).map(|(p, _)| *p));
            }
        }
        None => out.extend(
            sc.variants
                .iter()
                .filter(|v| v.step == step && v.action_type == a.kind && a.params_match(&v.params))
                .map(|v| v.proto),
        ),
    }
}

/// The effects of the matched graph action, if any.
pub(crate) fn matched_effects<'a>(sc: &'a Scenario, prior_state: &str, adv: &Advance) -> Option<&'a Effects> {
    let i = adv.matched?;
    sc.graph.as_ref()?.node(prior_state)?.get(i).map(|ga| &ga.effects)
}

#[cfg(test)]
mod tests {
    //! The peer's state-machine examples, on its sample seed (h-001, u-001, evil-mail.com).
    use super::*;
    use crate::ScoringMode;
    use crate::seed::{AttackGraph, GraphAction, GraphState, LoadedSeed, Tier, load_pair};

    /// The peer's sample seed, or `None` (skipped) when the peer's data is not beside the clone.
    fn sample(graph: Option<AttackGraph>) -> Option<Scenario> {
        let dir = vigil_testkit::peer::opensec_dir_or_skip("attacker: the peer's sample seed")?.join("seeds");
        let (mut seed, truth) =
            load_pair(&dir.join("sample_seed.json"), &dir.join("sample_ground_truth.json")).unwrap();
        seed.attack_graph = graph;
        let l = LoadedSeed {
            origin: dir,
            split: vigil_core::Split::Eval,
            tier: Tier::Easy,
            taxonomy_id: String::new(),
            taxonomy_family: String::new(),
            seed,
            truth,
        };
        Some(Scenario::compile(&l, ScoringMode::Compat, 0, false, 15).unwrap())
    }

    fn c<'a>(h: &'a [String], d: &'a [String], u: &'a [String]) -> Contained<'a> {
        Contained { hosts: h, domains: d, users: u }
    }

    #[test]
    fn legacy_chain_advances_and_stalls_on_containment() {
        let Some(sc) = sample(None) else { return };
        let none: Vec<String> = Vec::new();
        let ctx = AttackerContext::default();
        assert_eq!(advance(&sc, "phish_sent", c(&none, &none, &none), None, &ctx).next_state, "creds_used");
        let r = advance(&sc, "creds_used", c(&none, &none, &none), None, &ctx);
        assert_eq!((r.next_state.as_str(), r.stalled), ("lateral_move", false));
        for (h, d, u) in [
            (vec![], vec!["evil-mail.com".to_string()], vec![]),
            (vec!["h-001".to_string()], vec![], vec![]),
            (vec![], vec![], vec!["u-001".to_string()]),
        ] {
            let r = advance(&sc, "creds_used", c(&h, &d, &u), None, &ctx);
            assert!(r.stalled && r.next_state == "creds_used", "{r:?}");
        }
    }

    fn graph(state: &str, a: GraphAction) -> AttackGraph {
        AttackGraph {
            start_state: state.into(),
            objectives: None,
            initial_artifacts: vec![],
            states: [(state.to_string(), GraphState { actions: vec![a] })].into_iter().collect(),
        }
    }

    #[test]
    fn graph_actions_follow_requires_and_apply_effects() {
        let none: Vec<String> = Vec::new();
        let lateral = GraphAction {
            action_type: "lateral_move".into(),
            next_state: Some("lateral_move".into()),
            requires: Requires::default(),
            match_params: BTreeMap::new(),
            effects: Effects::default(),
            artifacts: vec![],
        };
        let Some(sc) = sample(Some(graph("creds_used", lateral))) else {
            return;
        };
        let ctx = AttackerContext { compromised_hosts: vec!["h-001".into()], ..AttackerContext::default() };
        let mv = AttackerAction::new("lateral_move", &[("src", "h-001"), ("dst", "h-002")]);
        let r = advance(&sc, "creds_used", c(&none, &none, &none), Some(&mv), &ctx);
        assert_eq!((r.next_state.as_str(), r.stalled), ("lateral_move", false));

        let reuse = GraphAction {
            action_type: "reuse_credentials".into(),
            next_state: Some("persistence".into()),
            requires: Requires { has_creds: Some(true), ..Requires::default() },
            match_params: BTreeMap::new(),
            effects: Effects { has_creds: Some(true), compromise_host: Some("h-001".into()), ..Effects::default() },
            artifacts: vec![],
        };
        let Some(sc) = sample(Some(graph("access", reuse))) else {
            return;
        };
        let mut ctx = AttackerContext::default();
        let a = AttackerAction::new("reuse_credentials", &[("user", "u-001"), ("host", "h-001")]);
        let r = advance(&sc, "access", c(&none, &none, &none), Some(&a), &ctx);
        assert_eq!((r.stalled, r.reason), (true, "action_requires_unsatisfied"));
        ctx.has_creds = true;
        let r = advance(&sc, "access", c(&none, &none, &none), Some(&a), &ctx);
        assert!(!r.stalled && r.matched.is_some());
        ctx.apply(&a, matched_effects(&sc, "access", &r));
        assert!(ctx.has_creds);
        assert_eq!(ctx.current_host.as_deref(), Some("h-001"));
        // A reset user blocks credential reuse before the graph is consulted.
        let reset = vec!["u-001".to_string()];
        assert_eq!(advance(&sc, "access", c(&none, &none, &reset), Some(&a), &ctx).reason, "user_reset");
    }
}
