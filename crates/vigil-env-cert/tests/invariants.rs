//! Reward invariants of the CERT verdict rubric, as properties over real episodes (issue 10).
//!
//! Every environment: outcomes carry exactly the documented components, each in its range (for
//! any valid `[env.reward]`), and the optimized total is their weighted sum; scoring is
//! deterministic and pure; consistently renaming event ids, the user and the PCs in window and
//! answer changes nothing; the oracle is at least as good as any answer on every component.
//! CERT: citing a non-existent event id never raises the evidence reward; evidence is monotone
//! in precision at fixed recall (and fixed hallucinated ids) and in recall at fixed precision;
//! an answer nothing parses from gets the format floor and nothing else; a wrong verdict on a
//! window without malicious events earns no evidence credit.
//!
//! Event ids are positional (`E<n>`; ids 1..=n exist), so a consistent renaming of event ids is
//! a permutation of the window's numbers, applied to its events, its malicious ids and the
//! answer; user and PC names are renamed to fresh ones.
//!
//! `PROPTEST_CASES` raises the case count (256 by default); shrunk failures are kept in
//! `proptest-regressions/invariants.txt`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use vigil_core::{ComponentInfo, Environment, Outcome, RewardVector, Split, Step, TaskId};
use vigil_env_cert::answer::parse_answer;
use vigil_env_cert::labels::RiskLabel;
use vigil_env_cert::record::{Window, eid};
use vigil_env_cert::reward::RewardConfig;
use vigil_env_cert::split::SplitConfig;
use vigil_env_cert::types::{PcId, UserId};
use vigil_env_cert::{CertConfig, CertEnv};
use vigil_testkit::invariants::{
    EPS, Relabeling, check_components, check_dominates, check_weighted_total, noise, weights,
};

const COMPONENTS: [&str; 4] = ["label", "evidence", "format", "length"];

/// The default synthetic dataset with all three classes in both splits.
fn config() -> CertConfig {
    let classes = vec![RiskLabel::Normal, RiskLabel::Suspicious, RiskLabel::Malicious];
    CertConfig {
        split: SplitConfig { classes, train_per_class: 8, eval_per_class: 12, ..SplitConfig::default() },
        ..CertConfig::default()
    }
}

fn env() -> &'static Arc<CertEnv> {
    static ENV: OnceLock<Arc<CertEnv>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(CertEnv::new(&config()).expect("the synthetic dataset builds")))
}

fn tasks() -> &'static [TaskId] {
    static TASKS: OnceLock<Vec<TaskId>> = OnceLock::new();
    TASKS.get_or_init(|| {
        let e = env();
        let mut t = e.tasks(Split::Eval, None).unwrap();
        t.extend(e.tasks(Split::Train, None).unwrap());
        t
    })
}

fn window(t: &TaskId) -> Arc<Window> {
    Arc::clone(env().window(t).expect("task exists"))
}

fn infos() -> Vec<ComponentInfo> {
    env().reward_components()
}

/// One real episode of `env` on `task`, answered with `text`.
fn play(env: &CertEnv, task: &TaskId, seed: u64, text: &str) -> Outcome {
    match env.start(task, seed).unwrap().step(text).unwrap() {
        Step::Done(o) => *o,
        Step::Continue { observation } => panic!("single-turn episodes: {}", observation.content),
    }
}

fn get(v: &RewardVector, name: &str) -> f64 {
    v.get(name).unwrap_or(f64::NAN)
}

/// How an answer is written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    Card,
    Markdown,
    Json,
    JsonThenCard,
}

/// A random answer to a window, kept structured so ids can be renamed or added.
#[derive(Debug, Clone)]
struct Sketch {
    form: Form,
    /// Index into `RiskLabel::ALL`; 3 = a made-up label; `None` = no risk field.
    label: Option<usize>,
    /// Cited event numbers (some may not exist); `None` = no evidence field.
    evidence: Option<Vec<u32>>,
    /// Write consecutive ids as `E003-E005` ranges.
    ranges: bool,
    reasoning: Option<String>,
    /// Whether the recommendation names the user, a PC, nothing; `None` = no field.
    recommendation: Option<u8>,
    noise: String,
    /// Extra words in the reasoning (the length component).
    padding: usize,
}

impl Sketch {
    fn render(&self, w: &Window) -> String {
        let n = w.events.len();
        let ids = |v: &[u32]| -> String {
            if v.is_empty() {
                return "none".into();
            }
            let name = |k: u32| eid(k as usize - 1, n);
            let mut parts: Vec<String> = Vec::new();
            let mut i = 0;
            while i < v.len() {
                let mut j = i;
                while self.ranges && j + 1 < v.len() && v[j + 1] == v[j] + 1 {
                    j += 1;
                }
                parts.push(if j > i { format!("{}-{}", name(v[i]), name(v[j])) } else { name(v[i]) });
                i = j + 1;
            }
            parts.join(", ")
        };
        let label = self.label.map(|k| RiskLabel::ALL.get(k).map_or("dangerous".to_string(), |l| l.to_string()));
        let pc = w.events.first().map(|e| e.pc.to_string()).unwrap_or_default();
        let rec = self.recommendation.map(|k| match k {
            0 => format!("suspend {} pending review", w.user),
            1 => format!("image {pc}"),
            _ => "keep watching".to_string(),
        });
        let mut why = self.reasoning.clone();
        if self.padding > 0 {
            why = Some(format!("{} {}", why.unwrap_or_default(), "more ".repeat(self.padding)));
        }
        let card = |bold: bool| {
            let mut s = String::new();
            let mut line =
                |k: &str, v: &str| s.push_str(&if bold { format!("- **{k}:** {v}\n") } else { format!("{k}: {v}\n") });
            if let Some(l) = &label {
                line("Risk", l);
            }
            if let Some(e) = &self.evidence {
                line("Evidence", &ids(e));
            }
            if let Some(r) = &why {
                line("Reasoning", r);
            }
            if let Some(r) = &rec {
                line("Recommendation", r);
            }
            s
        };
        let json = || {
            let mut m = serde_json::Map::new();
            if let Some(l) = &label {
                m.insert("risk".into(), l.clone().into());
            }
            if let Some(e) = &self.evidence {
                m.insert("evidence".into(), ids(e).into());
            }
            if let Some(r) = &why {
                m.insert("reasoning".into(), r.clone().into());
            }
            if let Some(r) = &rec {
                m.insert("recommendation".into(), r.clone().into());
            }
            serde_json::Value::Object(m).to_string()
        };
        let body = match self.form {
            Form::Card => card(false),
            Form::Markdown => card(true),
            Form::Json => json(),
            Form::JsonThenCard => format!("{}\n{}", json(), card(false)),
        };
        format!("{}\n{body}", self.noise)
    }
}

/// Event numbers for a window of `n` events with malicious numbers `gold`: mostly gold and
/// existing ids, some that do not exist.
fn cited(n: usize, gold: Vec<u32>) -> impl Strategy<Value = Vec<u32>> {
    let n = n as u32;
    let one = prop_oneof![
        3 => if gold.is_empty() { (1..=n.max(1)).boxed() } else { proptest::sample::select(gold).boxed() },
        3 => (1..=n.max(1)).boxed(),
        1 => (n + 1..n + 40).boxed(),
    ];
    proptest::collection::vec(one, 0..8).prop_map(|mut v| {
        let mut seen = std::collections::BTreeSet::new();
        v.retain(|x| seen.insert(*x));
        v
    })
}

fn gold_numbers(w: &Window) -> Vec<u32> {
    w.malicious_eids.iter().map(|e| e[1..].parse().unwrap()).collect()
}

fn sketch(w: &Window, ranges: bool) -> impl Strategy<Value = Sketch> + use<> {
    let form = prop_oneof![Just(Form::Card), Just(Form::Markdown), Just(Form::Json), Just(Form::JsonThenCard)];
    let label = proptest::option::weighted(0.9, 0usize..4);
    let evidence = proptest::option::weighted(0.85, cited(w.events.len(), gold_numbers(w)));
    let reasoning = proptest::option::weighted(0.85, prop_oneof![Just(String::new()), "[a-z ]{1,30}"]);
    let rec = proptest::option::weighted(0.8, 0u8..3);
    let padding = prop_oneof![4 => Just(0usize), 1 => 100usize..500];
    (form, label, evidence, Just(ranges).prop_union(Just(false)), reasoning, rec, noise(), padding).prop_map(
        move |(form, label, evidence, ranges, reasoning, recommendation, noise, padding)| Sketch {
            form,
            label,
            evidence,
            ranges,
            reasoning,
            recommendation,
            noise,
            padding,
        },
    )
}

fn task() -> impl Strategy<Value = TaskId> {
    proptest::sample::select(tasks().to_vec())
}

/// Tasks whose window has no malicious event (normal and some suspicious days).
fn quiet_tasks() -> Vec<TaskId> {
    tasks().iter().filter(|t| window(t).malicious_eids.is_empty()).cloned().collect()
}

fn task_and_sketch() -> impl Strategy<Value = (TaskId, Sketch)> {
    task().prop_flat_map(|t| {
        let s = sketch(&window(&t), true);
        (Just(t), s)
    })
}

/// A valid `[env.reward]` other than the default.
fn reward_config() -> impl Strategy<Value = RewardConfig> {
    (0.0f64..=1.0, 0.0f64..=1.0, 0.0f64..=10.0, 0.1f64..=10.0, 1u32..200, 1u32..600).prop_map(
        |(sm, ns, h, b, t, extra)| RewardConfig {
            suspicious_malicious: sm,
            normal_suspicious: ns,
            hallucination_penalty: h,
            evidence_beta: b,
            target_words: t,
            max_words: t + extra,
        },
    )
}

/// An environment over the one window `w` (eval split) scored with `reward`.
fn env_of(w: Window, reward: RewardConfig) -> CertEnv {
    CertEnv::from_windows(&CertConfig { reward, ..config() }, Vec::new(), vec![w], None, None).unwrap()
}

/// The window with event numbers permuted by `perm` (`k` → `perm[k-1]`), and user and PCs
/// renamed to fresh names; returns it and the text relabeling that goes with it.
fn relabel(w: &Window, perm: &[u32], user: u16) -> (Window, Relabeling) {
    let n = w.events.len();
    let mut pairs: Vec<(String, String)> = (1..=n).map(|k| (eid(k - 1, n), eid(perm[k - 1] as usize - 1, n))).collect();
    let new_user = UserId::new(*b"ZQX", user);
    pairs.push((w.user.to_string(), new_user.to_string()));
    let mut pcs: BTreeMap<PcId, PcId> = BTreeMap::new();
    for e in &w.events {
        let next = PcId::new(9000 + pcs.len() as u16);
        pcs.entry(e.pc).or_insert(next);
    }
    pairs.extend(pcs.iter().map(|(a, b)| (a.to_string(), b.to_string())));
    let r = Relabeling { pairs };
    let mut out = w.clone();
    out.user = new_user;
    out.id = format!("{new_user}@{}", w.date.iso());
    for e in &mut out.events {
        e.eid = r.map(&e.eid).to_string();
        e.pc = pcs[&e.pc];
    }
    out.malicious_eids = w.malicious_eids.iter().map(|e| r.map(e).to_string()).collect();
    (out, r)
}

proptest! {
    #![proptest_config(vigil_testkit::proptest_config("proptest-regressions/invariants.txt"))]

    #[test]
    fn outcomes_name_their_components_in_range_and_total_by_weight((t, s) in task_and_sketch(), w in weights(4)) {
        let text = s.render(&window(&t));
        let o = play(env(), &t, 0, &text);
        check_components(&infos(), &o.rewards)?;
        check_weighted_total(&infos(), &o.rewards, &w)?;
    }

    #[test]
    fn components_stay_in_range_under_any_valid_reward_config((t, s) in task_and_sketch(), reward in reward_config(), w in weights(4)) {
        let win = window(&t);
        let e = env_of((*win).clone(), reward);
        let o = play(&e, &t, 0, &s.render(&win));
        check_components(&e.reward_components(), &o.rewards)?;
        check_weighted_total(&e.reward_components(), &o.rewards, &w)?;
    }

    #[test]
    fn scoring_is_deterministic_and_pure((t, s) in task_and_sketch(), other in task_and_sketch()) {
        let text = s.render(&window(&t));
        let a = play(env(), &t, 1, &text);
        // Scoring another answer in between changes nothing (no state carried across episodes).
        let _ = play(env(), &other.0, 5, &other.1.render(&window(&other.0)));
        let b = play(env(), &t, 99, &text);
        prop_assert_eq!(&a, &b, "same window and answer, any seed: the same outcome");
        let rebuilt = env_of((*window(&t)).clone(), RewardConfig::default());
        prop_assert_eq!(&a, &play(&rebuilt, &t, 3, &text), "a second environment over the same window agrees");
    }

    #[test]
    fn consistent_relabeling_changes_no_component(
        (t, s, perm, user) in task().prop_flat_map(|t| {
            let w = window(&t);
            let perm = Just((1..=w.events.len() as u32).collect::<Vec<_>>()).prop_shuffle();
            (Just(t), sketch(&w, false), perm, 0u16..10_000)
        })
    ) {
        let w = window(&t);
        let (w2, r) = relabel(&w, &perm, user);
        let text = s.render(&w);
        let e2 = env_of(w2.clone(), RewardConfig::default());
        let a = play(env(), &t, 0, &text);
        let b = play(&e2, &TaskId::new(w2.id.clone()), 0, &r.apply(&text));
        prop_assert_eq!(&a.rewards, &b.rewards);
        prop_assert_eq!(&a.metrics, &b.metrics, "metrics (actionability, precision, grounding, ...) too");
        prop_assert_eq!(a.format_valid, b.format_valid);
    }

    #[test]
    fn the_oracle_is_at_least_as_good_as_any_answer_on_every_component((t, s) in task_and_sketch()) {
        let gold = env().start(&t, 0).unwrap().gold_action().unwrap();
        let oracle = play(env(), &t, 0, &gold);
        let other = play(env(), &t, 0, &s.render(&window(&t)));
        check_dominates(&oracle.rewards, &other.rewards, &COMPONENTS)?;
        let maxima: Vec<f64> = infos().iter().map(|c| c.max).collect();
        prop_assert_eq!(oracle.rewards.values().collect::<Vec<_>>(), maxima, "the oracle hits every maximum");
    }

    #[test]
    fn citing_a_nonexistent_event_never_raises_evidence((t, s, extra) in task_and_sketch().prop_flat_map(|(t, s)| {
        let n = window(&t).events.len() as u32;
        (Just(t), Just(s), n + 1..n + 100)
    })) {
        let w = window(&t);
        let mut more = s.clone();
        more.evidence = Some(s.evidence.clone().unwrap_or_default());
        let base = more.clone();
        more.evidence.as_mut().unwrap().push(extra);
        let before = play(env(), &t, 0, &base.render(&w));
        let after = play(env(), &t, 0, &more.render(&w));
        prop_assert!(get(&after.rewards, "evidence") <= get(&before.rewards, "evidence") + EPS,
            "citing E{} (of {}) raised evidence {} -> {}", extra, w.events.len(), get(&before.rewards, "evidence"), get(&after.rewards, "evidence"));
    }

    #[test]
    fn evidence_is_monotone_in_precision_at_fixed_recall(
        (t, hits, fp, more_fp, ghosts) in task().prop_flat_map(|t| {
            let w = window(&t);
            let gold = gold_numbers(&w);
            let others: Vec<u32> = (1..=w.events.len() as u32).filter(|k| !gold.contains(k)).collect();
            let n = w.events.len() as u32;
            (Just(t), proptest::sample::subsequence(gold.clone(), 0..=gold.len()),
             proptest::sample::subsequence(others.clone(), 0..=others.len().min(6)),
             proptest::sample::subsequence(others.clone(), 0..=others.len()),
             proptest::collection::btree_set(n + 1..n + 60, 0..12))
        })
    ) {
        // Same hits (recall) and the same non-existent ids; `wide` adds existing false alarms,
        // which lowers precision.
        let w = window(&t);
        let ghosts: Vec<u32> = ghosts.into_iter().collect();
        let mut narrow: Vec<u32> = hits.iter().chain(&fp).chain(&ghosts).copied().collect();
        let mut wide = narrow.clone();
        wide.extend(more_fp.iter().filter(|k| !fp.contains(k)));
        narrow.sort_unstable();
        wide.sort_unstable();
        let answer = |ids: Vec<u32>| Sketch { form: Form::Card, label: Some(2), evidence: Some(ids), ranges: false, reasoning: Some("x".into()), recommendation: Some(0), noise: String::new(), padding: 0 };
        let a = play(env(), &t, 0, &answer(narrow).render(&w));
        let b = play(env(), &t, 0, &answer(wide).render(&w));
        prop_assert_eq!(a.metrics.get("evidence_recall"), b.metrics.get("evidence_recall"));
        if let (Some(pa), Some(pb)) = (a.metrics.get("evidence_precision"), b.metrics.get("evidence_precision")) {
            prop_assert!(pa >= pb, "precision {} < {}", pa, pb);
        }
        prop_assert!(get(&b.rewards, "evidence") <= get(&a.rewards, "evidence") + EPS,
            "lower precision at the same recall raised evidence {} -> {} ({:?} -> {:?})",
            get(&a.rewards, "evidence"), get(&b.rewards, "evidence"), a.metrics, b.metrics);
    }

    #[test]
    fn evidence_is_monotone_in_recall_at_fixed_precision(
        (t, k, h, f, m) in task().prop_flat_map(|t| {
            let w = window(&t);
            let g = gold_numbers(&w).len();
            (Just(t), 2usize..4, 0..=g / 2, 0usize..4, 0usize..4)
        })
    ) {
        // `small` cites h hits, f existing false alarms, m non-existent ids; `big` cites k times
        // each (when the window has enough), the same precision with k times the recall.
        let w = window(&t);
        let gold = gold_numbers(&w);
        let others: Vec<u32> = (1..=w.events.len() as u32).filter(|x| !gold.contains(x)).collect();
        prop_assume!(k * h <= gold.len() && k * f <= others.len());
        let n = w.events.len() as u32;
        let pick = |s: usize| -> Vec<u32> {
            gold[..s * h].iter().chain(&others[..s * f]).copied().chain((0..(s * m) as u32).map(|i| n + 1 + i)).collect()
        };
        let answer = |ids: Vec<u32>| Sketch { form: Form::Json, label: Some(2), evidence: Some(ids), ranges: false, reasoning: Some("x".into()), recommendation: Some(1), noise: String::new(), padding: 0 };
        let a = play(env(), &t, 0, &answer(pick(1)).render(&w));
        let b = play(env(), &t, 0, &answer(pick(k)).render(&w));
        prop_assert_eq!(a.metrics.get("evidence_precision"), b.metrics.get("evidence_precision"));
        prop_assert!(a.metrics.get("evidence_recall") <= b.metrics.get("evidence_recall"));
        prop_assert!(get(&b.rewards, "evidence") + EPS >= get(&a.rewards, "evidence"),
            "higher recall at the same precision lowered evidence {} -> {}", get(&a.rewards, "evidence"), get(&b.rewards, "evidence"));
    }

    /// Issue 15: evidence is paid with the verdict, as OpenSOC pays citations only with the
    /// correct action. On a window with no malicious event there is nothing to cite, so a
    /// wrong verdict (e.g. "malicious" on a normal day) earns no evidence credit whatever it
    /// cites, and never more than the right verdict with the same citations.
    #[test]
    fn a_wrong_verdict_on_a_window_without_malicious_events_earns_no_evidence(
        (t, s, shift) in proptest::sample::select(quiet_tasks()).prop_flat_map(|t| {
            let s = sketch(&window(&t), true);
            (Just(t), s, 1usize..3)
        })
    ) {
        let w = window(&t);
        let gold = RiskLabel::ALL.iter().position(|&l| l == w.label).unwrap();
        let mut wrong = s.clone();
        wrong.label = Some((gold + shift) % 3);
        let mut right = s;
        right.label = Some(gold);
        let (text_w, text_r) = (wrong.render(&w), right.render(&w));
        prop_assume!(parse_answer(&text_w).label.is_some_and(|l| l != w.label));
        let ow = play(env(), &t, 0, &text_w);
        let or = play(env(), &t, 0, &text_r);
        prop_assert!(get(&ow.rewards, "evidence") <= EPS,
            "a {:?} verdict on a {} window without malicious events earned evidence {}: {:?}",
            parse_answer(&text_w).label, w.label, get(&ow.rewards, "evidence"), text_w);
        prop_assert!(get(&ow.rewards, "evidence") <= get(&or.rewards, "evidence") + EPS);
    }

    #[test]
    fn an_answer_nothing_parses_from_gets_the_format_floor_and_nothing_else(
        t in task(),
        text in prop_oneof![
            noise(),
            "[ -~\n]{0,200}",
            Just("{\"verdict_of_the_day\": 1, \"notes\": [\"E001\"]}".to_string()),
            Just("Risk: dangerous\nSeverity: high".to_string()),
            Just("I'd need more data; it could be malicious or normal.".to_string()),
            "(word ){0,600}",
        ]
    ) {
        let p = parse_answer(&text);
        prop_assume!(p.label.is_none() && p.fields_present() == 0 && p.evidence.is_none());
        let o = play(env(), &t, 0, &text);
        let floor = infos().iter().find(|c| c.name == "format").map(|c| c.min).unwrap();
        prop_assert_eq!(get(&o.rewards, "format"), floor);
        for c in ["label", "evidence", "length"] {
            prop_assert_eq!(get(&o.rewards, c), 0.0, "{} pays {} for {:?}", c, get(&o.rewards, c), text);
        }
        prop_assert!(!o.format_valid);
    }
}

/// The generators reach what the properties are about (a property over inputs that never occur
/// cannot fail).
#[test]
fn the_dataset_covers_every_label_and_evidence_case() {
    let ws: Vec<Arc<Window>> = tasks().iter().map(window).collect();
    for l in RiskLabel::ALL {
        assert!(ws.iter().any(|w| w.label == l), "{l} windows exist");
    }
    assert!(ws.iter().any(|w| w.malicious_eids.len() >= 4), "windows with several malicious events exist");
    assert!(!quiet_tasks().is_empty(), "windows without malicious events exist");
    assert!(ws.iter().any(|w| w.events.len() > 20), "windows with many events exist");
}
