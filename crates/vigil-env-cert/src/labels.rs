//! Window labels: `malicious`, `suspicious`, `normal`, with the rule stated and configurable.
//!
//! Defaults (research note §1.2, §1.4, §2A):
//! - **malicious**: the user-day has at least one answer-key row recorded under the insider's
//!   own user id (966 such user-days in r4.2). `malicious = "insider_range"` instead marks every
//!   day in the insider's `[start, end]` (≈1,362 in r4.2).
//! - **suspicious**: an insider's day inside `[start, end]` without malicious rows
//!   (`suspicious_in_range`), or a day raising at least `heuristic_min_flags` of the four
//!   high-risk flags of SOC Narrative's heuristic (thumb drive, ≥25 file copies, ≥3 external
//!   mails, cloud/paste-site URL). `heuristic_min_flags = 0` turns the heuristic off.
//! - **normal**: everything else.
//!
//! Rows recorded under another user's id (scenario 3 impersonation) credit the insider; with
//! `foreign_rows = "malicious"` they also make that other user's day malicious.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::answers::AnswerKey;
use crate::error::CertError;
use crate::features::Features;
use crate::types::{Day, EventId, SourceKind, UserId};

/// The three risk labels of the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLabel {
    /// Nothing worth an analyst's time.
    Normal,
    /// Worth a look, not an incident.
    Suspicious,
    /// An insider incident.
    Malicious,
}

impl RiskLabel {
    /// All labels, in class order.
    pub const ALL: [RiskLabel; 3] = [RiskLabel::Normal, RiskLabel::Suspicious, RiskLabel::Malicious];

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLabel::Normal => "normal",
            RiskLabel::Suspicious => "suspicious",
            RiskLabel::Malicious => "malicious",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for RiskLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which days count as malicious.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaliciousRule {
    /// Days with an answer row under the insider's own id.
    #[default]
    AnswerDays,
    /// Every day in the insider's `[start, end]`.
    InsiderRange,
}

/// What answer rows recorded under a non-insider's id do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignRows {
    /// They credit the insider only; the other user's window stays as labelled otherwise.
    #[default]
    Ignore,
    /// They also make the other user's day malicious and their events malicious evidence.
    Malicious,
}

/// `[env.labels]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelConfig {
    /// Which days are malicious.
    pub malicious: MaliciousRule,
    /// Insider days inside `[start, end]` without malicious rows are suspicious.
    pub suspicious_in_range: bool,
    /// Days with at least this many high-risk flags are suspicious (0 = off; max 4).
    pub heuristic_min_flags: u32,
    /// Treatment of answer rows recorded under another user's id.
    pub foreign_rows: ForeignRows,
}

impl Default for LabelConfig {
    fn default() -> Self {
        Self {
            malicious: MaliciousRule::AnswerDays,
            suspicious_in_range: true,
            heuristic_min_flags: 3,
            foreign_rows: ForeignRows::Ignore,
        }
    }
}

impl LabelConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), CertError> {
        if self.heuristic_min_flags > 4 {
            return Err(CertError::config("labels.heuristic_min_flags", "must be 0 (off) to 4"));
        }
        Ok(())
    }
}

/// Applies a [`LabelConfig`] to an [`AnswerKey`].
#[derive(Debug, Clone)]
pub struct Labeler {
    cfg: LabelConfig,
    key: AnswerKey,
    malicious_days: BTreeSet<(UserId, Day)>,
    ranges: HashMap<UserId, (Day, Day, u8)>,
}

impl Labeler {
    /// Precomputes the day sets.
    pub fn new(cfg: LabelConfig, key: AnswerKey) -> Self {
        let mut malicious_days = match cfg.malicious {
            MaliciousRule::AnswerDays => key.malicious_days(),
            MaliciousRule::InsiderRange => key
                .insiders()
                .iter()
                .flat_map(|i| (i.start.day().0..=i.end.day().0).map(move |d| (i.user, Day(d))))
                .collect(),
        };
        if cfg.foreign_rows == ForeignRows::Malicious {
            malicious_days.extend(key.rows().iter().map(|r| (r.user, r.time.day())));
        }
        let ranges = key.insiders().iter().map(|i| (i.user, (i.start.day(), i.end.day(), i.scenario))).collect();
        Self { cfg, key, malicious_days, ranges }
    }

    /// The answer key.
    pub fn key(&self) -> &AnswerKey {
        &self.key
    }

    /// The config.
    pub fn config(&self) -> &LabelConfig {
        &self.cfg
    }

    /// Malicious user-days under the configured rule.
    pub fn malicious_days(&self) -> &BTreeSet<(UserId, Day)> {
        &self.malicious_days
    }

    /// Whether an event in `user`'s window is malicious evidence.
    pub fn event_is_malicious(&self, user: UserId, kind: SourceKind, id: EventId) -> bool {
        match self.key.event_insider(kind, id) {
            Some(insider) => insider == user || self.cfg.foreign_rows == ForeignRows::Malicious,
            None => false,
        }
    }

    /// The scenario of `user` if an insider.
    pub fn scenario(&self, user: UserId) -> Option<u8> {
        self.ranges.get(&user).map(|r| r.2)
    }

    /// The label of `user`'s window on `day` with summary `features`.
    pub fn label(&self, user: UserId, day: Day, features: &Features) -> RiskLabel {
        if self.malicious_days.contains(&(user, day)) {
            return RiskLabel::Malicious;
        }
        let in_range = self.ranges.get(&user).is_some_and(|&(s, e, _)| (s..=e).contains(&day));
        if (self.cfg.suspicious_in_range && in_range)
            || (self.cfg.heuristic_min_flags > 0 && features.high_risk_flags() >= self.cfg.heuristic_min_flags)
        {
            return RiskLabel::Suspicious;
        }
        RiskLabel::Normal
    }
}
