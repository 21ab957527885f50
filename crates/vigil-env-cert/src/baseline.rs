//! Scripted baselines. They answer in the same labelled-text card a model must write, so their
//! answers go through the same parser and graders.
//!
//! - `always_normal`: "normal, no evidence" for every window (a valid, actionable answer).
//! - `rule_based`: reads only what the prompt shows (events, history, summary features; never
//!   the label, the malicious ids or the scenario) and applies documented rules:
//!   strong signals (leak-site request, hacking-tool page, executable copied to a thumb drive,
//!   first thumb-drive use with after-hours logon) → malicious; two weak signals (job-site
//!   request, job-site requests on earlier days too, first thumb-drive use, first after-hours logon, bulk copies above 3× the user's
//!   daily mean, logon on another PC, mail to ≥10 recipients) → malicious; one → suspicious.
//!   Evidence = the events behind the signals that fired.
//! - `oracle`: the gold answer (label and malicious ids), read by task id.
//!
//! The reward-hacking probes (`cite_spam`, `always_malicious`, `keyword_stuffing`,
//! `format_gaming`, `long_output`) are variants too, so `exp eval` runs them by name; see
//! [`crate::probes`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vigil_core::{Generation, GenerationRequest, Policy, PolicyError};

use crate::env::CertEnv;
use crate::features::{HACKING_MARKERS, JOB_SITES, LEAK_SITES, host_of, on_domain};
use crate::labels::RiskLabel;
use crate::prompt::{answer_card, gold_answer};
use crate::record::{Detail, Window};
use crate::rows::Activity;

/// The scripted baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// Always `normal`.
    AlwaysNormal,
    /// Feature rules.
    RuleBased,
    /// The answer key.
    Oracle,
    /// Probe: the rules' label citing every event of the window ([`crate::probes`]).
    CiteSpam,
    /// Probe: `malicious` for every window.
    AlwaysMalicious,
    /// Probe: `malicious`, keyword-matched evidence and a rationale of threat keywords.
    KeywordStuffing,
    /// Probe: JSON naming every label, followed by one text card per label.
    FormatGaming,
    /// Probe: the rules' answer with a rationale thousands of words long.
    LongOutput,
}

impl Baseline {
    /// All honest and reference baselines (the reward-hacking probes are in
    /// [`crate::probes::PROBES`]).
    pub const ALL: [Baseline; 3] = [Baseline::AlwaysNormal, Baseline::RuleBased, Baseline::Oracle];

    /// Every variant, in declaration order (the honest baselines and the probes): the names
    /// `[policy] kind = "scripted"` and `[eval] baselines` accept.
    pub const VARIANTS: [Baseline; 8] = [
        Baseline::AlwaysNormal, Baseline::RuleBased, Baseline::Oracle, Baseline::CiteSpam, Baseline::AlwaysMalicious,
        Baseline::KeywordStuffing, Baseline::FormatGaming, Baseline::LongOutput,
    ];

    /// The variant whose snake-case name is `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::VARIANTS.into_iter().find(|b| b.name() == name)
    }

    /// Snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            Baseline::AlwaysNormal => "always_normal",
            Baseline::RuleBased => "rule_based",
            Baseline::Oracle => "oracle",
            Baseline::CiteSpam => "cite_spam",
            Baseline::AlwaysMalicious => "always_malicious",
            Baseline::KeywordStuffing => "keyword_stuffing",
            Baseline::FormatGaming => "format_gaming",
            Baseline::LongOutput => "long_output",
        }
    }
}

/// A scripted policy over `env`. `seed` is accepted for the common signature; these baselines
/// are deterministic.
pub fn baseline_policy(env: Arc<CertEnv>, baseline: Baseline, seed: u64) -> Box<dyn Policy> {
    let _ = seed;
    Box::new(Scripted { env, baseline })
}

struct Scripted {
    env: Arc<CertEnv>,
    baseline: Baseline,
}

impl Policy for Scripted {
    fn name(&self) -> String {
        self.baseline.name().to_string()
    }

    fn generate(&mut self, requests: &[GenerationRequest]) -> Result<Vec<Generation>, PolicyError> {
        requests
            .iter()
            .map(|r| {
                let w = self.env.window(&r.task).ok_or_else(|| PolicyError::UnknownTask(r.task.clone()))?;
                Ok(Generation::text(match self.baseline {
                    Baseline::AlwaysNormal => answer_card(
                        RiskLabel::Normal,
                        &[],
                        "Nothing in the day stands out.",
                        &format!("No action needed for {}.", w.user),
                    ),
                    Baseline::RuleBased => rule_based(w),
                    Baseline::Oracle => gold_answer(w),
                    probe => crate::probes::probe_answer(probe, w).unwrap_or_else(|| rule_based(w)),
                }))
            })
            .collect()
    }
}

/// The rule-based verdict for a window (see the module docs).
pub fn rule_based(w: &Window) -> String {
    let (f, h) = (&w.features, &w.history);
    let seasoned = h.prior_active_days >= 5;
    let first_usb = seasoned && h.prior_usb_days == 0 && f.usb_connects > 0;
    let first_late = seasoned && h.prior_after_hours_days == 0 && f.after_hours_logons > 0;
    let bulk = f.file as f64 > (3.0 * h.mean_file_copies).max(10.0);
    let late = |t: &str| t.get(..2).and_then(|x| x.parse::<u32>().ok()).is_some_and(|hh| hh < 7 || hh > 20);
    let mut ev: Vec<String> = Vec::new();
    let mut strong: Vec<&str> = Vec::new();
    let mut weak: Vec<&str> = Vec::new();
    let cite = |pred: &dyn Fn(&Detail, &str, usize) -> bool, ev: &mut Vec<String>| {
        for (i, e) in w.events.iter().enumerate() {
            if pred(&e.detail, &e.time, i) && !ev.contains(&e.eid) {
                ev.push(e.eid.clone());
            }
        }
    };
    let http_on = |list: &'static [&'static str]| move |d: &Detail, _: &str, _: usize| matches!(d, Detail::Http { url, .. } if list.iter().any(|s| on_domain(&host_of(url), s)));
    let usb = |d: &Detail, _: &str, _: usize| matches!(d, Detail::Device { .. } | Detail::File { .. });
    if f.leak_site_http > 0 {
        strong.push("requests to a leak site");
        cite(&http_on(LEAK_SITES), &mut ev);
        cite(&usb, &mut ev);
    }
    if f.hacking_http > 0 || f.exe_copies > 0 {
        strong.push("hacking-tool download or executable copied to removable media");
        cite(
            &|d: &Detail, _: &str, _: usize| match d {
                Detail::Http { url, content } => HACKING_MARKERS.iter().any(|m| url.contains(m) || content.contains(m)),
                Detail::File { filename, content } => filename.ends_with(".exe") || content.starts_with("4D-5A"),
                _ => false,
            },
            &mut ev,
        );
    }
    if first_usb && f.after_hours_logons > 0 {
        strong.push("first thumb-drive use together with an after-hours logon");
        cite(&usb, &mut ev);
    }
    if f.job_site_http > 0 {
        weak.push("job-site browsing");
        if h.prior_job_site_days > 0 {
            weak.push("job hunting on earlier days too");
        }
        cite(&http_on(JOB_SITES), &mut ev);
    }
    if first_usb || bulk {
        weak.push(if first_usb { "first thumb-drive use" } else { "bulk copies to removable media" });
        cite(&usb, &mut ev);
    }
    if first_late {
        weak.push("first after-hours logon");
        cite(
            &|d: &Detail, t: &str, _: usize| matches!(d, Detail::Logon { activity: Activity::Logon }) && late(t),
            &mut ev,
        );
    }
    if f.other_pc_logons > 0 {
        weak.push("logon on another user's PC");
        let usual = h.usual_pc;
        let pcs: Vec<usize> = w
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.detail, Detail::Logon { activity: Activity::Logon }) && Some(e.pc) != usual)
            .map(|(i, _)| i)
            .collect();
        cite(&|_: &Detail, _: &str, i: usize| pcs.contains(&i), &mut ev);
    }
    if f.max_recipients >= 10 {
        weak.push("mail to an unusually large recipient list");
        cite(
            &|d: &Detail, _: &str, _: usize| matches!(d, Detail::Email { to, .. } if to.split(';').count() >= 10),
            &mut ev,
        );
    }
    ev.sort();
    let pc = w
        .events
        .iter()
        .find(|e| ev.contains(&e.eid))
        .or(w.events.first())
        .map(|e| e.pc.to_string())
        .unwrap_or_default();
    let reasons: Vec<&str> = strong.iter().chain(&weak).copied().collect();
    if !strong.is_empty() || weak.len() >= 2 {
        answer_card(
            RiskLabel::Malicious,
            &ev,
            &format!("Signals: {}.", reasons.join("; ")),
            &format!("Escalate: suspend {}'s access and image {pc}.", w.user),
        )
    } else if weak.len() == 1 {
        answer_card(
            RiskLabel::Suspicious,
            &ev,
            &format!("One unusual signal: {}.", reasons.join("; ")),
            &format!("Open a watch case on {} and review activity on {pc}.", w.user),
        )
    } else {
        answer_card(
            RiskLabel::Normal,
            &[],
            "Hours, machines and activity match the user's history.",
            &format!("No action needed for {}.", w.user),
        )
    }
}
