//! Proptest generators for OpenSOC's reward invariants (feature `testkit`): incidents, defender
//! answers built from parts (so a test can vary one part and hold the others), and consistent
//! relabelings of log ids and entity names. Generic generators live in `vigil_testkit`.

use std::borrow::Cow;

use proptest::prelude::*;
use vigil_core::{derive_seed, rng_from_seed};
use vigil_testkit::invariants::{Relabeling, noise};

use crate::action::TriageAction;
use crate::generator::{Stage, generate};
use crate::schema::{EventKind, IncidentParams, LogId, Text};

/// A generated incident of any stage and label.
pub fn incident() -> impl Strategy<Value = IncidentParams> {
    (0usize..4, 0usize..5, any::<u64>()).prop_map(|(s, l, seed)| {
        let (stage, label) = (Stage::ALL[s], TriageAction::ALL[l]);
        generate(stage, label, &mut rng_from_seed(derive_seed(seed, stage.as_str(), l as u64))).params
    })
}

/// The text on an answer's action line: every action (in canonical and odd case), garbage, or
/// nothing at all.
pub fn action_text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => (0usize..5).prop_map(|k| Some(TriageAction::ALL[k].as_str().to_string())),
        1 => (0usize..5).prop_map(|k| Some(TriageAction::ALL[k].as_str().to_uppercase())),
        1 => Just(Some("block_ip|escalate".to_string())),
        1 => "[a-z_ ]{0,12}".prop_map(Some),
        1 => Just(None),
    ]
}

/// What an answer cites.
#[derive(Debug, Clone, PartialEq)]
pub enum Cite {
    /// The `k`-th window line (modulo the window size).
    Window(usize),
    /// A log id outside the window.
    Outside(LogId),
    /// Several window lines (cite-spam).
    Several(Vec<usize>),
    /// No citation line.
    Missing,
    /// Text that is not a log id.
    Garbage(String),
}

/// How an answer is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The canonical three lines.
    Lines,
    /// Markdown-bold keys.
    Markup,
    /// A JSON object.
    Json,
    /// A JSON object in a code fence.
    FencedJson,
    /// The three lines after a closed `<think>` block.
    Think,
}

/// Every part of a defender answer except the action.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerSketch {
    /// The citation.
    pub cite: Cite,
    /// The rationale (possibly empty or very long).
    pub rationale: String,
    /// The layout.
    pub form: Form,
}

impl AnswerSketch {
    /// The answer text with `action` on its action line, citing into `ids` (the window).
    pub fn render(&self, action: Option<&str>, ids: &[LogId]) -> String {
        let pick = |k: usize| ids.get(k % ids.len().max(1)).copied().unwrap_or(LogId::new(1, 0)).to_string();
        let cite = match &self.cite {
            Cite::Window(k) => Some(pick(*k)),
            Cite::Outside(id) => Some(id.to_string()),
            Cite::Several(ks) => Some(ks.iter().map(|k| pick(*k)).collect::<Vec<_>>().join(", ")),
            Cite::Missing => None,
            Cite::Garbage(g) => Some(g.clone()),
        };
        match self.form {
            Form::Json | Form::FencedJson => {
                let mut m = serde_json::Map::new();
                if let Some(a) = action {
                    m.insert("action".into(), a.into());
                }
                if let Some(c) = cite {
                    m.insert("cited_log_id".into(), c.into());
                }
                m.insert("rationale".into(), self.rationale.clone().into());
                let j = serde_json::Value::Object(m).to_string();
                if self.form == Form::Json { j } else { format!("```json\n{j}\n```") }
            }
            Form::Lines | Form::Markup | Form::Think => {
                let key = |k: &str| if self.form == Form::Markup { format!("**{k}:**") } else { format!("{k}:") };
                let mut s = if self.form == Form::Think { "<think>hmm</think>\n".to_string() } else { String::new() };
                if let Some(a) = action {
                    s.push_str(&format!("{} {a}\n", key("Action")));
                }
                if let Some(c) = cite {
                    s.push_str(&format!("{} {c}\n", key("CitedLog")));
                }
                s.push_str(&format!("{} {}", key("Rationale"), self.rationale));
                s
            }
        }
    }
}

/// Answer parts: mostly well-formed, often citing the window, sometimes not.
pub fn sketch() -> impl Strategy<Value = AnswerSketch> {
    let cite = prop_oneof![
        6 => (0usize..64).prop_map(Cite::Window),
        1 => (1u16..9, 20u16..99).prop_map(|(t, n)| Cite::Outside(LogId::new(t, n))),
        1 => proptest::collection::vec(0usize..64, 2..6).prop_map(Cite::Several),
        1 => Just(Cite::Missing),
        1 => "[A-Za-z0-9 -]{0,10}".prop_map(Cite::Garbage),
    ];
    let rationale = prop_oneof![
        6 => Just("The cited line drove the decision.".to_string()),
        1 => Just(String::new()),
        1 => Just("word ".repeat(120)),
        1 => noise(),
    ];
    let form = prop_oneof![
        6 => Just(Form::Lines),
        1 => Just(Form::Markup),
        2 => Just(Form::Json),
        1 => Just(Form::FencedJson),
        1 => Just(Form::Think),
    ];
    (cite, rationale, form).prop_map(|(cite, rationale, form)| AnswerSketch { cite, rationale, form })
}

/// A whole answer for a window: parts, or (rarely) pure noise.
pub fn answer(ids: Vec<LogId>) -> impl Strategy<Value = String> {
    prop_oneof![
        9 => (action_text(), sketch()).prop_map(move |(a, s)| s.render(a.as_deref(), &ids)),
        1 => noise(),
    ]
}

/// A consistent renaming of an incident: every log id `L<t>-<n>` becomes `L<turn>-<perm[n]>`,
/// and every user, host and actor name a fresh name (names equal up to case stay equal up to
/// case, the only comparison the verifier makes between them).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRelabeling {
    /// New turn of every log id.
    pub turn: u16,
    /// New position number of each old one (`perm[n]`).
    pub perm: Vec<u16>,
    /// Entity names and log ids, as text pairs (for answers).
    pub text: Relabeling,
}

fn names(p: &IncidentParams) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    };
    for e in &p.events {
        match &e.kind {
            EventKind::PrivGrant { user, actor, .. } => {
                add(user);
                add(actor);
            }
            k => {
                k.host().map(&mut add);
                k.user().map(&mut add);
            }
        }
    }
    out
}

/// A random relabeling of `p`'s log ids and names.
pub fn relabeling(p: &IncidentParams) -> impl Strategy<Value = IncidentRelabeling> + use<> {
    let n = p.events.len();
    let old: Vec<LogId> = p.events.iter().map(|e| e.log_id).collect();
    let names = names(p);
    let perm = Just((0..n as u16).collect::<Vec<u16>>()).prop_shuffle();
    let order = Just((0..names.len()).collect::<Vec<usize>>()).prop_shuffle();
    // Turns from 10 on: generated windows use turn 1 and out-of-window citations turns below 10,
    // so the renamed window never collides with an id the renaming leaves alone.
    (10u16..999, perm, order).prop_map(move |(turn, perm, order)| {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (id, k) in old.iter().zip(&perm) {
            pairs.push((id.to_string(), LogId::new(turn, *k).to_string()));
        }
        for (i, name) in names.iter().enumerate() {
            // The fresh name is shared by every spelling of the same lower-cased name.
            let class = names.iter().position(|m| m.eq_ignore_ascii_case(name)).unwrap_or(i);
            pairs.push((name.clone(), format!("ent{}", order[class])));
        }
        IncidentRelabeling { turn, perm, text: Relabeling { pairs } }
    })
}

impl IncidentRelabeling {
    /// The new id of `id` (positions are taken from `id.n`).
    pub fn log_id(&self, id: LogId) -> LogId {
        LogId::new(self.turn, self.perm.get(usize::from(id.n)).copied().unwrap_or(id.n))
    }

    fn name(&self, s: &Text) -> Text {
        Cow::Owned(self.text.map(s).to_string())
    }

    /// The renamed incident (same events, times and fields otherwise).
    pub fn incident(&self, p: &IncidentParams) -> IncidentParams {
        let mut q = p.clone();
        for e in &mut q.events {
            e.log_id = self.log_id(e.log_id);
            match &mut e.kind {
                EventKind::AuthLoginFailure { user, host, .. } | EventKind::AuthLoginSuccess { user, host, .. } => {
                    *user = self.name(user);
                    *host = self.name(host);
                }
                EventKind::PrivGrant { user, actor, .. } => {
                    *user = self.name(user);
                    *actor = self.name(actor);
                }
                EventKind::ProcExec { host, user, .. } | EventKind::FileAccess { host, user, .. } => {
                    *host = self.name(host);
                    *user = self.name(user);
                }
                EventKind::NetBeacon { host, .. } | EventKind::NetFlow { host, .. } | EventKind::DnsQuery { host, .. } => {
                    *host = self.name(host);
                }
            }
        }
        q
    }

    /// The same renaming applied to an answer's text.
    pub fn answer(&self, text: &str) -> String {
        self.text.apply(text)
    }
}
