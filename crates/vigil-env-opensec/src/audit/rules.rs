//! The investigation-free rules of the shortcut audit. Each reads only surface features of the
//! rows (never what a row means for the attack chain) and guesses one report field.

use std::collections::{BTreeMap, BTreeSet};

use super::{Field, SeenRow, View};
use crate::evidence::Table;

/// A rule's guess for one field of one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Guess {
    /// The rule does not answer this field.
    NotApplicable,
    /// Its answer (`None`: it found nothing, which counts as wrong).
    Answer(Option<String>),
}

/// One rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Name in the audit table.
    pub name: &'static str,
    pub(crate) guess: fn(&View, Field, &str) -> Guess,
}

type Pick = fn(&View, usize) -> Option<String>;

/// An entity rule: applies to the four entity fields.
fn entity(v: &View, f: Field, pick: Pick) -> Guess {
    match f.entity_kind() {
        Some(k) => Guess::Answer(pick(v, k)),
        None => Guess::NotApplicable,
    }
}

/// Entities of `kind` mentioned by `rows`, first mention first.
fn seen<'a>(rows: impl Iterator<Item = &'a SeenRow>, kind: usize) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for r in rows {
        for (k, e) in &r.mentions {
            if *k == kind && !out.contains(&e.as_str()) {
                out.push(e);
            }
        }
    }
    out
}

fn first(rows: Vec<&str>) -> Option<String> {
    rows.first().map(|s| s.to_string())
}

/// The first entity (in order of appearance) with the most (or the fewest) rows.
fn by_count(v: &View, kind: usize, most: bool) -> Option<String> {
    let c = counts(v, kind);
    let n = c.iter().map(|x| x.1);
    let target = if most { n.max() } else { n.min() }?;
    c.into_iter().find(|x| x.1 == target).map(|x| x.0)
}

/// Rows mentioning each entity of `kind` (a row counts once).
fn counts(v: &View, kind: usize) -> Vec<(String, usize)> {
    let order = seen(v.timeline(), kind);
    let mut c: BTreeMap<&str, usize> = BTreeMap::new();
    for r in v.timeline() {
        let here: BTreeSet<&str> = r.mentions.iter().filter(|(k, _)| *k == kind).map(|(_, e)| e.as_str()).collect();
        for e in here {
            *c.entry(e).or_default() += 1;
        }
    }
    order.into_iter().map(|e| (e.to_string(), c[e])).collect()
}

fn only_in(v: &View, kind: usize, table: Table) -> Option<String> {
    first(seen(v.timeline().filter(|r| r.table == table), kind))
}

fn severity_rank(s: Option<&str>) -> u8 {
    match s {
        Some("critical") => 4,
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        _ => 0,
    }
}

fn tld(d: &str) -> &str {
    d.rsplit('.').next().unwrap_or(d)
}

const SUSPICIOUS: &[&str] = &[
    "login", "secure", "verify", "account", "update", "portal", "auth", "sso", "support", "billing", "invoice", "check",
];

/// Surface cues of each initial vector (what a keyword rule would look for).
const CUES: &[(&str, &[&str])] = &[
    ("phish", &["phish", "outlook.exe"]),
    ("credential_stuffing", &["stuffing", "bruteforce", "failure"]),
    ("exposed_service", &["exploit", "w3wp"]),
    ("malicious_download", &["download"]),
    ("insider_usb", &["usb", "removable"]),
];

fn cue(r: &SeenRow) -> Option<&'static str> {
    if r.table == Table::EmailLogs {
        return Some("phish");
    }
    let t = r.text.to_lowercase();
    CUES.iter().find(|(_, words)| words.iter().any(|w| t.contains(w))).map(|(v, _)| *v)
}

fn vector(f: Field, pick: impl FnOnce() -> Option<String>) -> Guess {
    if f == Field::InitialVector { Guess::Answer(pick()) } else { Guess::NotApplicable }
}

fn cued<'a>(rows: impl Iterator<Item = &'a SeenRow>) -> Vec<&'static str> {
    rows.filter_map(cue).collect()
}

/// Every rule, entity rules first.
pub const RULES: &[Rule] = &[
    Rule { name: "first_seen", guess: |v, f, _| entity(v, f, |v, k| first(seen(v.timeline(), k))) },
    Rule {
        name: "last_seen",
        guess: |v, f, _| entity(v, f, |v, k| seen(v.timeline(), k).last().map(|s| s.to_string())),
    },
    Rule { name: "most_frequent", guess: |v, f, _| entity(v, f, |v, k| by_count(v, k, true)) },
    Rule { name: "least_frequent", guess: |v, f, _| entity(v, f, |v, k| by_count(v, k, false)) },
    Rule {
        name: "first_observation_only",
        guess: |v, f, _| {
            entity(v, f, |v, k| {
                first(seen(
                    v.timeline().filter(|r| r.step == 0 && matches!(r.table, Table::Alerts | Table::EmailLogs)),
                    k,
                ))
            })
        },
    },
    Rule {
        name: "first_trusted",
        guess: |v, f, _| entity(v, f, |v, k| first(seen(v.timeline().filter(|r| r.trusted), k))),
    },
    Rule {
        name: "highest_severity_alert",
        guess: |v, f, _| {
            entity(v, f, |v, k| {
                let top = v
                    .timeline()
                    .filter(|r| r.table == Table::Alerts)
                    .map(|r| severity_rank(r.severity.as_deref()))
                    .max()?;
                first(seen(
                    v.timeline().filter(|r| r.table == Table::Alerts && severity_rank(r.severity.as_deref()) == top),
                    k,
                ))
            })
        },
    },
    Rule { name: "only_x_in_auth_logs", guess: |v, f, _| entity(v, f, |v, k| only_in(v, k, Table::AuthLogs)) },
    Rule { name: "only_x_in_netflow", guess: |v, f, _| entity(v, f, |v, k| only_in(v, k, Table::Netflow)) },
    Rule {
        name: "only_x_in_process_events",
        guess: |v, f, _| entity(v, f, |v, k| only_in(v, k, Table::ProcessEvents)),
    },
    Rule { name: "only_x_in_alerts", guess: |v, f, _| entity(v, f, |v, k| only_in(v, k, Table::Alerts)) },
    Rule { name: "only_x_in_email_logs", guess: |v, f, _| entity(v, f, |v, k| only_in(v, k, Table::EmailLogs)) },
    Rule {
        name: "injection_cross_off",
        guess: |v, f, _| {
            entity(v, f, |v, k| {
                let named = seen(v.timeline().filter(|r| r.injected), k);
                seen(v.timeline(), k).into_iter().find(|e| !named.contains(e)).map(str::to_string)
            })
        },
    },
    Rule {
        name: "injection_named",
        guess: |v, f, _| entity(v, f, |v, k| first(seen(v.timeline().filter(|r| r.injected), k))),
    },
    Rule { name: "lowest_id", guess: |v, f, _| entity(v, f, |v, k| v.candidates[k].iter().min().cloned()) },
    Rule { name: "highest_id", guess: |v, f, _| entity(v, f, |v, k| v.candidates[k].iter().max().cloned()) },
    Rule {
        name: "rarest_tld",
        guess: |v, f, _| {
            if f != Field::AttackerDomain {
                return Guess::NotApplicable;
            }
            let d = &v.candidates[2];
            let n = |t: &str| d.iter().filter(|x| tld(x) == t).count();
            let order = seen(v.timeline(), 2);
            let min = d.iter().map(|x| n(tld(x))).min();
            Guess::Answer(
                order
                    .into_iter()
                    .chain(d.iter().map(String::as_str))
                    .find(|x| Some(n(tld(x))) == min)
                    .map(str::to_string),
            )
        },
    },
    Rule {
        name: "not_dot_com",
        guess: |v, f, _| {
            if f != Field::AttackerDomain {
                return Guess::NotApplicable;
            }
            let order = seen(v.timeline(), 2);
            let c = &v.candidates[2];
            Guess::Answer(
                order.into_iter().chain(c.iter().map(String::as_str)).find(|x| tld(x) != "com").map(str::to_string),
            )
        },
    },
    Rule {
        name: "suspicious_name",
        guess: |v, f, _| {
            if f != Field::AttackerDomain {
                return Guess::NotApplicable;
            }
            let score = |d: &str| SUSPICIOUS.iter().filter(|w| d.contains(*w)).count();
            let c = &v.candidates[2];
            let max = c.iter().map(|d| score(d)).max();
            Guess::Answer(c.iter().find(|d| Some(score(d)) == max).cloned())
        },
    },
    Rule { name: "majority_vector", guess: |_, f, majority| vector(f, || Some(majority.to_string())) },
    Rule { name: "first_vector_cue", guess: |v, f, _| vector(f, || cued(v.timeline()).first().map(|s| s.to_string())) },
    Rule { name: "last_vector_cue", guess: |v, f, _| vector(f, || cued(v.timeline()).last().map(|s| s.to_string())) },
    Rule {
        name: "most_cued_vector",
        guess: |v, f, _| {
            vector(f, || {
                let c = cued(v.timeline());
                let mut n: BTreeMap<&str, usize> = BTreeMap::new();
                for x in &c {
                    *n.entry(x).or_default() += 1;
                }
                let max = n.values().max()?;
                c.iter().find(|x| n[**x] == *max).map(|s| s.to_string())
            })
        },
    },
    Rule {
        name: "first_observation_vector_cue",
        guess: |v, f, _| vector(f, || cued(v.timeline().filter(|r| r.step == 0)).first().map(|s| s.to_string())),
    },
    Rule {
        name: "trusted_vector_cue",
        guess: |v, f, _| vector(f, || cued(v.timeline().filter(|r| r.trusted)).first().map(|s| s.to_string())),
    },
];
