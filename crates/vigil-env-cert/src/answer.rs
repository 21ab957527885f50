//! Parser for the structured verdict, in JSON or the labelled-text card.
//!
//! Accepted forms (a `<think>…</think>` block is removed first):
//! - JSON object (bare or in a ```json fence): `risk`/`label`, `evidence`/`evidence_ids` (list
//!   of ids or one string), `reasoning`/`rationale`/`analysis`/`chain`, `recommendation`/
//!   `next_step`/`action`; keys are case-insensitive.
//! - Labelled lines `Risk:`, `Evidence:`, `Reasoning:` (or `Rationale:`, `Analysis:`, `Chain:`),
//!   `Recommendation:` (or `Next step:`, `Action:`); markdown bullets and bold are ignored,
//!   a field runs until the next label. Evidence ids may be single (`E004`, `E4`) or ranges
//!   (`E014-E025`, `E014–E025`, `E014 to E025`) with glosses around them.
//!
//! The answer is **format-valid** when the label comes from the risk field (not guessed from
//! free text), the evidence field is present and non-empty when the label is `malicious`
//! (`none` is an explicit empty list: a `normal` or `suspicious` day may have no malicious event
//! to point at, and the answer key then has none), and the reasoning is non-empty. When no risk field is
//! found, a label word anywhere is still recorded as the prediction (as SOC Narrative's parser
//! does), but the answer is not format-valid. A risk field (or, without one, a text) naming two
//! different labels has no label: several labels in one answer are no verdict.

use serde::{Deserialize, Serialize};

use crate::labels::RiskLabel;

/// Which form the answer was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerForm {
    /// A JSON object.
    Json,
    /// Labelled lines.
    Text,
    /// Neither (free text or empty).
    Unstructured,
}

/// Most ids one range may expand to (guards against `E1-E999999`).
pub const MAX_RANGE: u32 = 1000;

/// A parsed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedAnswer {
    /// The label, from the risk field or (fallback) the one label word in the text.
    pub label: Option<RiskLabel>,
    /// Whether `label` came from a risk field.
    pub label_from_field: bool,
    /// Cited event numbers (`E004` → 4), in order, without duplicates; `None` when the
    /// evidence field is missing.
    pub evidence: Option<Vec<u32>>,
    /// The reasoning (or chain) text.
    pub reasoning: Option<String>,
    /// The recommendation text.
    pub recommendation: Option<String>,
    /// The form.
    pub form: AnswerForm,
}

impl ParsedAnswer {
    /// Format validity as documented in the module.
    pub fn format_valid(&self) -> bool {
        let Some(label) = self.label.filter(|_| self.label_from_field) else { return false };
        let evidence_ok = match &self.evidence {
            Some(ids) => !ids.is_empty() || label != RiskLabel::Malicious,
            None => false,
        };
        evidence_ok && self.reasoning.as_deref().is_some_and(|r| !r.trim().is_empty())
    }

    /// Number of the four fields present (label from a field, evidence, reasoning,
    /// recommendation).
    pub fn fields_present(&self) -> u32 {
        u32::from(self.label.is_some() && self.label_from_field)
            + u32::from(self.evidence.is_some())
            + u32::from(self.reasoning.as_deref().is_some_and(|r| !r.trim().is_empty()))
            + u32::from(self.recommendation.as_deref().is_some_and(|r| !r.trim().is_empty()))
    }
}

/// Removes `<think>…</think>` blocks; an unclosed block swallows the rest.
fn strip_think(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("<think>") {
        out.push_str(&rest[..i]);
        match rest[i..].find("</think>") {
            Some(j) => rest = &rest[i + j + "</think>".len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out.replace("</think>", "")
}

/// The one label `s` names (lower-cased words, with common abbreviations); `None` when it names
/// none or several different ones ("malicious or normal" is no verdict, so listing every label
/// cannot collect the credit of whichever is right).
fn label_word(s: &str) -> Option<RiskLabel> {
    let lower = s.to_lowercase();
    let mut found = lower.split(|c: char| !c.is_alphanumeric()).filter_map(|w| match w {
        "normal" | "benign" => Some(RiskLabel::Normal),
        "suspicious" | "susp" => Some(RiskLabel::Suspicious),
        "malicious" | "mal" => Some(RiskLabel::Malicious),
        _ => None,
    });
    let first = found.next()?;
    found.all(|l| l == first).then_some(first)
}

/// Extracts event numbers from free evidence text: `E4`, `E004`, ranges `E1-E3`, `E1–E3`,
/// `E1 to E3`. Returns `Some(vec![])` for an explicit "none".
pub fn evidence_ids(text: &str) -> Vec<u32> {
    let b = text.as_bytes();
    let mut out: Vec<u32> = Vec::new();
    let push = |n: u32, out: &mut Vec<u32>| {
        if n > 0 && !out.contains(&n) {
            out.push(n);
        }
    };
    let num_at = |i: usize| -> Option<(u32, usize)> {
        // `E` followed by digits, not preceded by a letter or digit.
        if i >= b.len() || !(b[i] == b'E' || b[i] == b'e') || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            return None;
        }
        let mut j = i + 1;
        let mut v: u64 = 0;
        while j < b.len() && b[j].is_ascii_digit() {
            v = (v * 10 + u64::from(b[j] - b'0')).min(u64::from(u32::MAX));
            j += 1;
        }
        if j == i + 1 || (j < b.len() && b[j].is_ascii_alphabetic()) {
            return None;
        }
        Some((v as u32, j))
    };
    let mut i = 0;
    while i < b.len() {
        let Some((a, j)) = num_at(i) else {
            i += 1;
            continue;
        };
        // A range separator: '-', en dash, em dash or "to", with optional spaces.
        let rest = &text[j..];
        let trimmed = rest.trim_start();
        let sep_len = ["-", "–", "—", "to "].iter().find(|s| trimmed.starts_with(**s)).map(|s| s.len());
        if let Some(sl) = sep_len {
            let k = j + (rest.len() - trimmed.len()) + sl;
            let k2 = k + (text[k..].len() - text[k..].trim_start().len());
            if let Some((z, end)) = num_at(k2) {
                if z >= a && z - a < MAX_RANGE {
                    for n in a..=z {
                        push(n, &mut out);
                    }
                } else {
                    push(a, &mut out);
                    push(z, &mut out);
                }
                i = end;
                continue;
            }
        }
        push(a, &mut out);
        i = j;
    }
    out
}

fn json_candidate(text: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    if end <= start {
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(&text[start..=end]) {
        Ok(serde_json::Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a.iter().map(json_text).collect::<Vec<_>>().join(", "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Risk,
    Evidence,
    Reasoning,
    Recommendation,
}

fn field_of(key: &str) -> Option<Field> {
    match key.trim().to_lowercase().replace([' ', '-'], "_").as_str() {
        "risk" | "label" | "risk_label" | "risk_level" | "verdict" => Some(Field::Risk),
        "evidence" | "evidence_ids" | "evidence_id" => Some(Field::Evidence),
        "reasoning" | "rationale" | "analysis" | "chain" | "reason" => Some(Field::Reasoning),
        "recommendation" | "next_step" | "action" | "recommended_action" => Some(Field::Recommendation),
        _ => None,
    }
}

fn is_none_word(s: &str) -> bool {
    matches!(
        s.trim().trim_matches(['.', '"', '\'', '[', ']']).to_lowercase().as_str(),
        "" | "none" | "n/a" | "-" | "no evidence" | "nothing"
    )
}

/// Parses an answer.
pub fn parse_answer(raw: &str) -> ParsedAnswer {
    let text = strip_think(raw);
    let mut p = ParsedAnswer {
        label: None,
        label_from_field: false,
        evidence: None,
        reasoning: None,
        recommendation: None,
        form: AnswerForm::Unstructured,
    };
    if let Some(obj) = json_candidate(&text) {
        let mut any = false;
        for (k, v) in &obj {
            let Some(f) = field_of(k) else { continue };
            any = true;
            let t = json_text(v);
            match f {
                Field::Risk => {
                    p.label = label_word(&t);
                    p.label_from_field = p.label.is_some();
                }
                Field::Evidence => p.evidence = Some(if is_none_word(&t) { Vec::new() } else { evidence_ids(&t) }),
                Field::Reasoning => p.reasoning = Some(t.trim().to_string()),
                Field::Recommendation => p.recommendation = Some(t.trim().to_string()),
            }
        }
        if any {
            p.form = AnswerForm::Json;
            return p;
        }
    }
    let mut fields: Vec<(Field, String)> = Vec::new();
    for line in text.lines() {
        let clean = line.trim().trim_start_matches(['-', '*', '#', '>', ' ']).replace("**", "");
        let labelled = clean.split_once(':').and_then(|(k, v)| field_of(k).map(|f| (f, v.trim().to_string())));
        match labelled {
            Some((f, v)) if !fields.iter().any(|(g, _)| *g == f) => fields.push((f, v)),
            // A repeated label or an unlabelled line continues the current field.
            Some(_) | None => {
                if let Some(last) = fields.last_mut() {
                    if !last.1.is_empty() {
                        last.1.push('\n');
                    }
                    last.1.push_str(clean.trim());
                }
            }
        }
    }
    if !fields.is_empty() {
        p.form = AnswerForm::Text;
    }
    for (f, v) in fields {
        match f {
            Field::Risk => {
                if p.label.is_none() {
                    p.label = label_word(&v);
                    p.label_from_field = p.label.is_some();
                }
            }
            Field::Evidence => {
                if p.evidence.is_none() {
                    p.evidence = Some(if is_none_word(&v) { Vec::new() } else { evidence_ids(&v) });
                }
            }
            Field::Reasoning => {
                if p.reasoning.as_deref().is_none_or(str::is_empty) {
                    p.reasoning = Some(v.trim().to_string());
                }
            }
            Field::Recommendation => {
                if p.recommendation.is_none() {
                    p.recommendation = Some(v.trim().to_string());
                }
            }
        }
    }
    if p.label.is_none() {
        p.label = label_word(&text);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn labelled_text_with_ranges_glosses_and_markdown() {
        let a = parse_answer(
            "<think>maybe normal?</think>\n**Risk:** Malicious\n**Evidence:**\n- E004 – USB connected\n- E014–E016 – rapid copies\n\
             **Chain:** 1. after-hours logon\n2. upload\n**Recommendation:** isolate PC-4211",
        );
        assert_eq!(a.form, AnswerForm::Text);
        assert_eq!(a.label, Some(RiskLabel::Malicious));
        assert!(a.label_from_field);
        assert_eq!(a.evidence, Some(vec![4, 14, 15, 16]));
        assert_eq!(a.reasoning.as_deref(), Some("1. after-hours logon\n2. upload"));
        assert_eq!(a.recommendation.as_deref(), Some("isolate PC-4211"));
        assert!(a.format_valid());
    }

    #[test]
    fn json_in_a_fence() {
        let a = parse_answer(
            "```json\n{\"Risk\": \"suspicious\", \"evidence\": [\"E2\", \"E010 to E011\"], \"reasoning\": \"odd\", \"recommendation\": \"watch ABC0001\"}\n```",
        );
        assert_eq!(a.form, AnswerForm::Json);
        assert_eq!((a.label, a.evidence.clone()), (Some(RiskLabel::Suspicious), Some(vec![2, 10, 11])));
        assert!(a.format_valid());
    }

    #[test]
    fn validity_rules() {
        let normal = parse_answer("Risk: normal\nEvidence: none\nReasoning: routine day");
        assert_eq!(normal.evidence, Some(vec![]));
        assert!(normal.format_valid(), "normal may cite nothing");
        assert!(!parse_answer("Risk: malicious\nEvidence: none\nReasoning: x").format_valid(), "malicious must cite");
        assert!(
            parse_answer("Risk: suspicious\nEvidence: none\nReasoning: x").format_valid(),
            "suspicious may cite nothing"
        );
        assert!(!parse_answer("Risk: malicious\nEvidence: E1\nReasoning:").format_valid(), "empty reasoning");
        assert!(!parse_answer("Risk: malicious\nReasoning: x").format_valid(), "no evidence field");
        let guess = parse_answer("I think this is malicious because of E3.");
        assert_eq!(
            (guess.label, guess.label_from_field, guess.form),
            (Some(RiskLabel::Malicious), false, AnswerForm::Unstructured)
        );
        assert!(!guess.format_valid());
        let unclosed = parse_answer("<think>Risk: malicious\nEvidence: E1\nReasoning: x");
        assert_eq!(unclosed.label, None, "an unclosed think block is all thinking");
        assert_eq!(parse_answer("Risk: dangerous").label, None);
        assert_eq!(parse_answer("Risk: malicious / normal\nEvidence: E1\nReasoning: x").label, None, "two labels");
        assert_eq!(
            parse_answer("Risk: malicious\nRisk: normal\nEvidence: E1\nReasoning: x").label,
            None,
            "two risk lines"
        );
        assert_eq!(
            parse_answer("{\"risk\": [\"normal\", \"malicious\"], \"evidence\": \"none\"}").label,
            None,
            "a list of labels"
        );
        assert_eq!(parse_answer("Risk: Malicious (mal)\nEvidence: E1\nReasoning: x").label, Some(RiskLabel::Malicious));
    }

    #[test]
    fn evidence_id_forms() {
        assert_eq!(evidence_ids("E1, E002;e3 E7-E5 E10 - E12 E1"), vec![1, 2, 3, 7, 5, 10, 11, 12]);
        assert_eq!(evidence_ids("XE4 E5x E6"), vec![6], "ids must stand alone");
        assert_eq!(evidence_ids("E1-E999999999999").len(), 2, "huge ranges are not expanded");
        assert_eq!(evidence_ids("E0 E99999999999999999999"), vec![u32::MAX]);
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,300}") {
            let a = parse_answer(&s);
            let _ = a.format_valid();
        }

        #[test]
        fn never_panics_on_card_like_text(
            parts in proptest::collection::vec(prop_oneof![
                Just("Risk:"), Just("Evidence:"), Just("E12"), Just("–"), Just("-"), Just(" to "), Just("{"), Just("}"),
                Just("\"risk\":"), Just("malicious"), Just("none"), Just("\n"), Just("<think>"), Just("</think>"), Just("é"),
            ], 0..30)
        ) {
            let s: String = parts.concat();
            let _ = parse_answer(&s).format_valid();
        }
    }
}
