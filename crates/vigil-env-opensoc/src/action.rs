//! The defender's five triage actions, ordered by operational cost.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the five things a tier-1 analyst can do with an alert.
///
/// The order (and [`TriageAction::cost`]) is the cost of acting: doing nothing is free, waking a
/// human is the most expensive. `quarantine_host` and `block_ip` cost the same but act on
/// different objects (a host vs a remote address), so they are never interchangeable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageAction {
    /// Benign noise: close the alert.
    Dismiss,
    /// Suspicious but not actionable yet: keep watching.
    Monitor,
    /// Isolate the endpoint.
    QuarantineHost,
    /// Block the remote IP at the perimeter.
    BlockIp,
    /// Hand over to a human incident responder (blast-radius events).
    Escalate,
}

impl TriageAction {
    /// All actions, cheapest first (the order used in prompts, label lists and reports).
    pub const ALL: [TriageAction; 5] = [
        TriageAction::Dismiss,
        TriageAction::Monitor,
        TriageAction::QuarantineHost,
        TriageAction::BlockIp,
        TriageAction::Escalate,
    ];

    /// The wire name (`"quarantine_host"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            TriageAction::Dismiss => "dismiss",
            TriageAction::Monitor => "monitor",
            TriageAction::QuarantineHost => "quarantine_host",
            TriageAction::BlockIp => "block_ip",
            TriageAction::Escalate => "escalate",
        }
    }

    /// Operational cost: dismiss 0, monitor 1, quarantine_host 2, block_ip 2, escalate 3.
    pub const fn cost(self) -> u8 {
        match self {
            TriageAction::Dismiss => 0,
            TriageAction::Monitor => 1,
            TriageAction::QuarantineHost | TriageAction::BlockIp => 2,
            TriageAction::Escalate => 3,
        }
    }

    /// Containment actions change the environment (reversibly): quarantine a host or block an IP.
    pub const fn is_containment(self) -> bool {
        matches!(self, TriageAction::QuarantineHost | TriageAction::BlockIp)
    }

    /// True for every label except `dismiss`: the incident needs some response.
    pub const fn is_malicious(self) -> bool {
        !matches!(self, TriageAction::Dismiss)
    }

    /// Index in [`TriageAction::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Case-insensitive lookup of a wire name (answers from models vary in case).
    pub fn parse_loose(s: &str) -> Option<TriageAction> {
        TriageAction::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for TriageAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the five action names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown triage action `{0}`; expected one of dismiss, monitor, quarantine_host, block_ip, escalate")]
pub struct UnknownAction(pub String);

impl FromStr for TriageAction {
    type Err = UnknownAction;
    /// Exact (lowercase) wire names only; see [`TriageAction::parse_loose`] for model answers.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TriageAction::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_costs_and_order_match_the_seed() {
        let names: Vec<_> = TriageAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names, ["dismiss", "monitor", "quarantine_host", "block_ip", "escalate"]);
        let costs: Vec<_> = TriageAction::ALL.iter().map(|a| a.cost()).collect();
        assert_eq!(costs, [0, 1, 2, 2, 3]);
        for a in TriageAction::ALL {
            assert_eq!(a.as_str().parse::<TriageAction>().unwrap(), a);
            assert_eq!(TriageAction::ALL[a.index()], a);
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{a}\""));
        }
        assert_eq!(TriageAction::parse_loose("Block_IP"), Some(TriageAction::BlockIp));
        assert!("Escalate".parse::<TriageAction>().is_err());
        assert!(TriageAction::BlockIp.is_containment() && !TriageAction::Escalate.is_containment());
    }
}
