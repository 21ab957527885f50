//! Prompt rendering of a window, and the answer card scripted policies write.
//!
//! Event lines follow SOC Narrative's published layout (`E004 | 12:48 | device | ...`). What
//! the model sees is configurable: the user's history line (on by default: CERT's signals are
//! relative to the user's past) and the summary-feature line (off by default, since handing the
//! model precomputed flags lets it copy them instead of reading events). Ground truth (labels,
//! CERT ids, scenario) never enters the prompt.

use std::fmt::Write;

use serde::{Deserialize, Serialize};
use vigil_core::ChatMessage;

use crate::error::CertError;
use crate::labels::RiskLabel;
use crate::record::{Detail, Window};

/// `[env.prompt]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromptConfig {
    /// Show the user's history before the day.
    pub show_history: bool,
    /// Show the summary-feature counts.
    pub show_features: bool,
    /// Keywords shown per content field (0 hides content).
    pub content_words: usize,
    /// Longest URL / recipient list shown, in characters.
    pub max_field_chars: usize,
}

impl Default for PromptConfig {
    fn default() -> Self {
        Self { show_history: true, show_features: false, content_words: 8, max_field_chars: 160 }
    }
}

impl PromptConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), CertError> {
        if self.max_field_chars < 16 {
            return Err(CertError::config("prompt.max_field_chars", "must be at least 16"));
        }
        Ok(())
    }
}

/// The system prompt.
pub const SYSTEM_PROMPT: &str = "You are a SOC analyst doing UEBA triage of insider-threat alerts. You read one \
user's activity for one calendar day and decide whether it is normal, suspicious or malicious. Cite only event \
ids that appear in the log.";

/// The required answer format, shown in every prompt.
pub const FORMAT_INSTRUCTIONS: &str = "Answer in exactly this format:\n\
Risk: normal | suspicious | malicious\n\
Evidence: the ids of the events that support the verdict, comma-separated (ranges like E014-E020 are allowed); \"none\" when no event points to misuse (never for a malicious day)\n\
Reasoning: one or two sentences\n\
Recommendation: one concrete next step that names the user or the PC\n\
A JSON object with the keys risk, evidence (list of ids), reasoning and recommendation is also accepted.";

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

fn words(s: &str, n: usize) -> String {
    let mut it = s.split_whitespace();
    let mut out: Vec<&str> = it.by_ref().take(n).collect();
    if it.next().is_some() {
        out.push("…");
    }
    out.join(" ")
}

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The user message for `w`.
pub fn render_window(w: &Window, cfg: &PromptConfig) -> String {
    let mut s = String::with_capacity(256 + w.events.len() * 96);
    let role = w.role.as_deref().map(|r| format!(" (role: {r})")).unwrap_or_default();
    let _ = writeln!(s, "User: {}{role}", w.user);
    let _ = writeln!(s, "Day: {} ({})", w.date.iso(), WEEKDAYS[w.date.weekday() as usize]);
    let shown = w.events.len();
    if shown as u32 == w.total_events {
        let _ = writeln!(s, "Events: {shown}");
    } else {
        let _ = writeln!(s, "Events: {} in the day, {shown} shown (evenly sampled, time order kept)", w.total_events);
    }
    if cfg.show_history {
        let h = &w.history;
        let pc = h.usual_pc.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into());
        let _ = writeln!(
            s,
            "History before this day: {} active days; thumb drive used on {} days; after-hours logons on {} days; \
             job sites visited on {} days; {:.1} file copies and {:.0} events per day; usual PC {pc}.",
            h.prior_active_days,
            h.prior_usb_days,
            h.prior_after_hours_days,
            h.prior_job_site_days,
            h.mean_file_copies,
            h.mean_events
        );
    }
    if cfg.show_features {
        let f = &w.features;
        let _ = writeln!(
            s,
            "Summary: after-hours events {}, thumb-drive connects {}, file copies {} ({} executables), external mails {}, \
             largest recipient list {}, job-site requests {}, leak-site requests {}, hacking-tool pages {}, \
             logons on other PCs {}.",
            f.after_hours,
            f.usb_connects,
            f.file,
            f.exe_copies,
            f.external_emails,
            f.max_recipients,
            f.job_site_http,
            f.leak_site_http,
            f.hacking_http,
            f.other_pc_logons
        );
    }
    s.push_str("\nEvents (time order):\n");
    for e in &w.events {
        let hhmm = e.time.get(..5).unwrap_or(&e.time);
        let _ = write!(s, "{} | {hhmm} | {} | {} | ", e.eid, e.detail.source(), e.pc);
        let content = |c: &str| if cfg.content_words == 0 { String::new() } else { words(c, cfg.content_words) };
        match &e.detail {
            Detail::Logon { activity } | Detail::Device { activity } => s.push_str(activity.as_str()),
            Detail::File { filename, content: c } => {
                let _ = write!(s, "filename={filename} | {}", content(c));
            }
            Detail::Http { url, content: c } => {
                let _ = write!(s, "url={} | {}", clip(url, cfg.max_field_chars), content(c));
            }
            Detail::Email { to, cc, bcc, from, size, attachments, content: c } => {
                let _ = write!(s, "from={from} to={}", clip(to, cfg.max_field_chars));
                if !cc.is_empty() {
                    let _ = write!(s, " cc={}", clip(cc, cfg.max_field_chars));
                }
                if !bcc.is_empty() {
                    let _ = write!(s, " bcc={}", clip(bcc, cfg.max_field_chars));
                }
                let _ = write!(s, " size={size} attachments={attachments} | {}", content(c));
            }
        }
        let trimmed = s.trim_end_matches([' ', '|']).len();
        s.truncate(trimmed);
        s.push('\n');
    }
    s.push('\n');
    s.push_str(FORMAT_INSTRUCTIONS);
    s
}

/// The full conversation for `w`.
pub fn messages(w: &Window, cfg: &PromptConfig) -> Vec<ChatMessage> {
    vec![ChatMessage::system(SYSTEM_PROMPT), ChatMessage::user(render_window(w, cfg))]
}

/// Writes an answer card in the labelled-text form (used by the scripted policies and as the
/// SFT target), so scripted answers go through the same parser as a model's.
pub fn answer_card(label: RiskLabel, evidence: &[String], reasoning: &str, recommendation: &str) -> String {
    let ev = if evidence.is_empty() { "none".to_string() } else { evidence.join(", ") };
    format!("Risk: {label}\nEvidence: {ev}\nReasoning: {reasoning}\nRecommendation: {recommendation}")
}

/// The oracle's answer for `w`: the gold label, the malicious event ids, a short rationale
/// built from the cited events, and a recommendation naming the user and the PC.
pub fn gold_answer(w: &Window) -> String {
    let pc = w
        .events
        .iter()
        .find(|e| w.malicious_eids.contains(&e.eid))
        .or(w.events.first())
        .map(|e| e.pc.to_string())
        .unwrap_or_default();
    let kinds: Vec<&str> = {
        let mut k: Vec<&str> =
            w.events.iter().filter(|e| w.malicious_eids.contains(&e.eid)).map(|e| e.detail.source().as_str()).collect();
        k.dedup();
        k
    };
    match w.label {
        RiskLabel::Normal => answer_card(
            RiskLabel::Normal,
            &[],
            "Activity matches the user's usual hours, machines and habits; nothing points to misuse.",
            &format!("No action needed for {}; keep routine monitoring.", w.user),
        ),
        RiskLabel::Suspicious => answer_card(
            RiskLabel::Suspicious,
            &w.malicious_eids,
            "The day falls inside a period of unusual behaviour for this user but shows no clear malicious act.",
            &format!("Open a watch case on {} and review the next days of activity on {pc}.", w.user),
        ),
        RiskLabel::Malicious => answer_card(
            RiskLabel::Malicious,
            &w.malicious_eids,
            &format!("The cited {} events form an insider-threat chain unusual for this user.", kinds.join("/")),
            &format!("Escalate: suspend {}'s access, isolate {pc} and collect a DLP and device dump.", w.user),
        ),
    }
}
