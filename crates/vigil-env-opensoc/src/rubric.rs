//! The defender rubric: five separate reward components (GDPO normalizes each on its own).
//!
//! Constants are the seed's; the peer's flaws are fixed:
//! - the citation bonus is paid only when the action is also correct (the peer paid +0.1 on a
//!   missed attack, -0.9 instead of -1.0);
//! - a wrong action gets documented partial credit by cost gap ([`PARTIAL_CREDIT`]) and
//!   over-reaction costs scale with the gap, so escalating everything is not nearly free;
//! - escalating a benign incident is an over-reaction like containment (the peer charged
//!   nothing but the -0.05 "unnecessary escalation" on `monitor` truths).
//!
//! An answer whose action cannot be read is graded as *no action taken*: it earns no
//! correctness and counts as a dismissal for the safety component (in production an unreadable
//! verdict means nobody acted). Scoring is pure: a [`TriageGrade`] in, a number out.

use serde::Serialize;
use vigil_core::{ComponentInfo, RewardComponent, RewardVector};

use crate::action::TriageAction;

/// Correct action.
pub const CORRECT: f64 = 1.0;
/// Wrong but near action on a malicious incident: both non-dismiss and at most one cost step
/// apart (`quarantine_host` vs `block_ip`: right urgency, wrong object; `monitor` vs a
/// containment; a containment vs `escalate`). Zero for a two-step miss (`monitor` vs `escalate`).
pub const PARTIAL_CREDIT: f64 = 0.25;
/// Dismissing (or not answering) a malicious incident: the cardinal SOC failure.
pub const MISSED_MALICIOUS: f64 = -1.0;
/// Containment or escalation on a benign incident.
pub const OVER_REACT_BENIGN: f64 = -0.3;
/// Per cost step above the truth on a malicious incident (`monitor` truth, `escalate` answer:
/// two steps, -0.05, the seed's "unnecessary escalation").
pub const OVER_STEP: f64 = -0.025;
/// Citing an accepted log line, paid only with the correct action.
pub const CITATION_BONUS: f64 = 0.1;
/// Answer not in the required format.
pub const FORMAT_PENALTY: f64 = -0.1;

/// Component names, in the fixed order every outcome carries them.
pub const DEFENDER_COMPONENTS: [&str; 5] = ["correctness", "safety", "over_reaction", "citation", "format"];

/// Was the cited line an accepted trigger?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Citation {
    /// No readable single log id.
    Missing,
    /// A log id that is not an accepted trigger.
    Wrong,
    /// An accepted trigger.
    Correct,
}

/// Everything the rubric needs about one graded defender turn (the graded-episode type of the
/// reward components).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TriageGrade {
    /// Verifier's action.
    pub truth: TriageAction,
    /// Parsed action, `None` if unreadable or ambiguous.
    pub predicted: Option<TriageAction>,
    /// Citation status.
    pub citation: Citation,
    /// Strict format validity.
    pub format_valid: bool,
}

impl TriageGrade {
    /// The action that was effectively taken (unreadable = nothing = dismiss).
    pub fn effective(&self) -> TriageAction {
        self.predicted.unwrap_or(TriageAction::Dismiss)
    }
    /// Exact match.
    pub fn correct(&self) -> bool {
        self.predicted == Some(self.truth)
    }
}

/// Correctness in `[0, 1]`: 1 exact, [`PARTIAL_CREDIT`] for a near miss on a malicious incident.
pub fn correctness(g: &TriageGrade) -> f64 {
    match g.predicted {
        Some(p) if p == g.truth => CORRECT,
        Some(p) if p.is_malicious() && g.truth.is_malicious() && p.cost().abs_diff(g.truth.cost()) <= 1 => PARTIAL_CREDIT,
        _ => 0.0,
    }
}

/// Safety in `[-1, 0]`: [`MISSED_MALICIOUS`] when a malicious incident was effectively dismissed.
pub fn safety(g: &TriageGrade) -> f64 {
    if g.truth.is_malicious() && g.effective() == TriageAction::Dismiss { MISSED_MALICIOUS } else { 0.0 }
}

/// Over-reaction in `[-0.3, 0]`: [`OVER_REACT_BENIGN`] for containment or escalation on a benign
/// incident, [`OVER_STEP`] per cost step above the truth on a malicious one.
pub fn over_reaction(g: &TriageGrade) -> f64 {
    let (e, t) = (g.effective(), g.truth);
    if !t.is_malicious() {
        if e.is_containment() || e == TriageAction::Escalate { OVER_REACT_BENIGN } else { 0.0 }
    } else if e.cost() > t.cost() {
        OVER_STEP * f64::from(e.cost() - t.cost())
    } else {
        0.0
    }
}

/// Citation in `[0, 0.1]`: [`CITATION_BONUS`] iff the action is correct and the cited line is an
/// accepted trigger.
pub fn citation(g: &TriageGrade) -> f64 {
    if g.correct() && g.citation == Citation::Correct { CITATION_BONUS } else { 0.0 }
}

/// Format in `[-0.1, 0]`.
pub fn format(g: &TriageGrade) -> f64 {
    if g.format_valid { 0.0 } else { FORMAT_PENALTY }
}

/// All five components in [`DEFENDER_COMPONENTS`] order (the allocation-free hot path).
pub fn score(g: &TriageGrade) -> [f64; 5] {
    [correctness(g), safety(g), over_reaction(g), citation(g), format(g)]
}

/// The five components as a named vector.
pub fn reward_vector(g: &TriageGrade) -> RewardVector {
    RewardVector::from_pairs(DEFENDER_COMPONENTS.into_iter().zip(score(g)))
}

/// One defender rubric component as a [`RewardComponent`] over [`TriageGrade`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefenderComponent {
    /// [`correctness`]
    Correctness,
    /// [`safety`]
    Safety,
    /// [`over_reaction`]
    OverReaction,
    /// [`citation`]
    Citation,
    /// [`format`]
    Format,
}

impl DefenderComponent {
    /// All five, in order.
    pub const ALL: [DefenderComponent; 5] = [
        DefenderComponent::Correctness,
        DefenderComponent::Safety,
        DefenderComponent::OverReaction,
        DefenderComponent::Citation,
        DefenderComponent::Format,
    ];
}

impl RewardComponent<TriageGrade> for DefenderComponent {
    fn info(&self) -> ComponentInfo {
        let (name, min, max, what) = match self {
            Self::Correctness => ("correctness", 0.0, CORRECT, "1 for the verifier's action, 0.25 for a one-step miss on a malicious incident"),
            Self::Safety => ("safety", MISSED_MALICIOUS, 0.0, "-1 when a malicious incident is dismissed or left unanswered"),
            Self::OverReaction => ("over_reaction", OVER_REACT_BENIGN, 0.0, "-0.3 for containment/escalation on benign, -0.025 per cost step above a malicious truth"),
            Self::Citation => ("citation", 0.0, CITATION_BONUS, "+0.1 for citing an accepted trigger line, only with the correct action"),
            Self::Format => ("format", FORMAT_PENALTY, 0.0, "-0.1 when the answer is not in the required format"),
        };
        ComponentInfo::new(name, min, max, what)
    }

    fn score(&self, g: &TriageGrade) -> f64 {
        match self {
            Self::Correctness => correctness(g),
            Self::Safety => safety(g),
            Self::OverReaction => over_reaction(g),
            Self::Citation => citation(g),
            Self::Format => format(g),
        }
    }
}

/// The defender components as trait objects, in order.
pub fn defender_components() -> Vec<Box<dyn RewardComponent<TriageGrade>>> {
    DefenderComponent::ALL.into_iter().map(|c| Box::new(c) as Box<dyn RewardComponent<TriageGrade>>).collect()
}
