//! Variant comparison: each metric's mean with a seeded percentile-bootstrap 95% interval, and
//! paired tests of every variant against a reference.
//!
//! The replicate unit is the seed when a variant has at least two seeds (each seed contributes
//! the hold-out mean of its run's main policy), otherwise the hold-out episode. Paired tests pair
//! seeds present in both variants, or, for single-run variants, episodes with the same task and
//! episode seed.

use std::collections::BTreeMap;

use vigil_core::{derive_seed, rng_from_seed};
use vigil_metrics::inference::{Interval, bootstrap_mean, paired_t, sign_flip};

use vigil_core::{MetricInfo, MetricSource};
use vigil_rewards::RewardSet;

use crate::load::{EpisodeLite, PolicyEval, RunData};
use crate::plot::{BarGroup, Fig};
use crate::report::{Item, Variant, component_names};
use crate::table::{Cell, Table};
use crate::{ReportError, ReportOptions};

/// A number the comparison reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Metric {
    Total,
    Component(String),
    FormatValid,
    Accuracy,
    MacroF1,
    /// An episode metric an environment declared: key and header.
    Env(String, String),
    /// A metric of the environment's own aggregate: key and header.
    Summary(String, String),
}

impl Metric {
    pub(crate) fn key(&self) -> String {
        match self {
            Metric::Total => "total".into(),
            Metric::Component(c) => format!("reward.{c}"),
            Metric::FormatValid => "format_valid".into(),
            Metric::Accuracy => "accuracy".into(),
            Metric::MacroF1 => "macro_f1".into(),
            Metric::Env(k, _) | Metric::Summary(k, _) => k.clone(),
        }
    }

    pub(crate) fn header(&self) -> String {
        match self {
            Metric::Total => "total reward".into(),
            Metric::Component(c) => c.clone(),
            Metric::FormatValid => "format valid".into(),
            Metric::Accuracy => "accuracy".into(),
            Metric::MacroF1 => "macro-F1".into(),
            Metric::Env(_, h) | Metric::Summary(_, h) => h.clone(),
        }
    }

    /// A declared metric as a comparison metric (`None` for text-valued ones).
    pub(crate) fn declared(m: &MetricInfo) -> Option<Metric> {
        Some(match m.source {
            MetricSource::Episode => Metric::Env(m.key.clone(), m.header.clone()),
            MetricSource::Summary => Metric::Summary(m.key.clone(), m.header.clone()),
            MetricSource::Accuracy => Metric::Accuracy,
            MetricSource::MacroF1 => Metric::MacroF1,
            MetricSource::FormatValid => Metric::FormatValid,
            MetricSource::Label => return None,
        })
    }

    /// The hold-out value of a policy, from its summary.
    pub(crate) fn of(&self, p: &PolicyEval) -> Option<f64> {
        let o = &p.summary.overall;
        match self {
            Metric::Total => Some(o.total.mean),
            Metric::Component(c) => o.rewards.iter().find(|x| &x.name == c).map(|x| x.stats.mean),
            Metric::FormatValid => Some(o.format_valid_rate),
            Metric::Accuracy => o.classification.as_ref().map(|c| c.accuracy),
            Metric::MacroF1 => o.classification.as_ref().map(|c| c.macro_f1),
            Metric::Env(k, _) => o.metrics.get(k).map(|d| d.mean),
            Metric::Summary(k, _) => p.env_summary.metrics.get(k).copied(),
        }
    }

    /// One episode's value (`None` when the metric is not per-episode or does not apply).
    fn of_episode(&self, e: &EpisodeLite, rewards: &RewardSet) -> Option<f64> {
        let o = &e.outcome;
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        match self {
            Metric::Total => rewards.weighted_total(&o.rewards).ok(),
            Metric::Component(c) => o.rewards.get(c),
            Metric::FormatValid => Some(flag(o.format_valid)),
            Metric::Accuracy => o.prediction.as_ref().map(|p| flag(p.predicted.as_deref() == Some(p.gold.as_str()))),
            Metric::MacroF1 | Metric::Summary(..) => None,
            Metric::Env(k, _) => o.metrics.get(k).copied(),
        }
    }
}

/// Headline metrics of a run's environment (its declaration), shown after the rewards.
pub(crate) fn env_metrics(run: &RunData) -> Vec<Metric> {
    let mut out: Vec<Metric> = Vec::new();
    for m in run.info.env.metrics.metrics.iter().filter(|m| m.headline).filter_map(Metric::declared) {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

fn metrics(variants: &[Variant]) -> Vec<Metric> {
    let mut m = vec![Metric::Total];
    m.extend(component_names(variants).into_iter().map(Metric::Component));
    m.push(Metric::FormatValid);
    if let Some(run) = variants.first().and_then(|v| v.runs.first()) {
        for x in env_metrics(run) {
            if !m.contains(&x) {
                m.push(x);
            }
        }
    }
    m
}

/// Per-seed values of a variant's main policy.
fn seed_values(v: &Variant, m: &Metric) -> Vec<(u64, f64)> {
    v.runs.iter().filter_map(|r| Some((r.seed(), m.of(r.main_policy()?)?))).collect()
}

/// Per-episode values of a single-run variant, keyed by (task, episode seed).
fn episode_values(r: &RunData, m: &Metric, cache: &mut BTreeMap<std::path::PathBuf, Vec<EpisodeLite>>) -> Result<Vec<((String, u64), f64)>, ReportError> {
    let Some(p) = r.main_policy() else { return Ok(Vec::new()) };
    if !cache.contains_key(&p.dir) {
        cache.insert(p.dir.clone(), p.episodes()?);
    }
    Ok(cache[&p.dir].iter().filter_map(|e| Some(((e.task.0.clone(), e.seed), m.of_episode(e, &r.rewards)?))).collect())
}

fn rng_for(opts: &ReportOptions, what: &str) -> rand_chacha::ChaCha8Rng {
    rng_from_seed(derive_seed(opts.seed, what, 0))
}

fn ci(xs: &[f64], opts: &ReportOptions, what: &str) -> Result<Interval, ReportError> {
    bootstrap_mean(xs, opts.resamples, 0.95, &mut rng_for(opts, what)).map_err(|source| ReportError::Metric { what: what.into(), source })
}

/// The comparison and paired-test tables and the comparison figure.
pub(crate) fn section(variants: &[Variant], opts: &ReportOptions) -> Result<Vec<Item>, ReportError> {
    let ms = metrics(variants);
    let mut cache = BTreeMap::new();
    let mut t = Table::new("comparison", "Variants: mean [bootstrap 95% CI] of the main policy on the hold-out", &[("variant", "variant"), ("seeds", "seeds"), ("unit", "CI over")]);
    for m in &ms {
        t.column(m.key(), m.header());
    }
    let mut groups: BTreeMap<String, Vec<BarGroup>> = BTreeMap::new();
    for v in variants {
        let by_seed = v.runs.len() >= 2;
        let mut row = vec![Cell::text(&v.label), Cell::Int(v.runs.len() as i64), Cell::text(if by_seed { "seeds" } else { "episodes" })];
        for m in &ms {
            let what = format!("ci:{}:{}", v.label, m.key());
            let xs: Vec<f64> = if by_seed {
                seed_values(v, m).into_iter().map(|x| x.1).collect()
            } else {
                episode_values(&v.runs[0], m, &mut cache)?.into_iter().map(|x| x.1).collect()
            };
            // A summary-only metric (macro-F1) of a single run has no replicates: its value, no CI.
            let cell = if xs.is_empty() {
                Cell::num(v.runs.first().and_then(|r| m.of(r.main_policy()?)))
            } else {
                let c = ci(&xs, opts, &what)?;
                groups.entry(m.key()).or_default().push(BarGroup { label: v.label.clone(), values: vec![Some((c.estimate, c.lo, c.hi))] });
                Cell::Ci(c, 3)
            };
            row.push(cell);
        }
        t.push(row);
    }
    t.notes.push(format!(
        "Percentile bootstrap with {} resamples, seeded from report seed {}. Unit: the per-seed hold-out mean when a variant has ≥ 2 seeds, else the hold-out episode.",
        opts.resamples, opts.seed
    ));
    let mut items = vec![Item::Text("## Comparison".into()), Item::Table(t)];
    items.push(Item::Table(paired(variants, &ms, opts, &mut cache)?));
    let panels: Vec<(String, String, Vec<BarGroup>)> = ms
        .iter()
        .filter_map(|m| groups.remove(&m.key()).map(|g| (m.header(), "hold-out mean".to_string(), shorten(g))))
        .take(9)
        .collect();
    if !panels.is_empty() {
        items.push(Item::Figure("comparison".into(), Fig::Bars("Variants: hold-out means with bootstrap 95% CIs".into(), panels, vec!["mean, 95% CI".into()])));
    }
    Ok(items)
}

/// Variant labels as x tick labels: just the values when every label is `key=value,…`.
fn shorten(groups: Vec<BarGroup>) -> Vec<BarGroup> {
    groups
        .into_iter()
        .map(|mut g| {
            if g.label.contains('=') {
                g.label = g.label.split(',').map(|kv| kv.split_once('=').map_or(kv, |x| x.1)).collect::<Vec<_>>().join(",");
            }
            g
        })
        .collect()
}

fn paired(
    variants: &[Variant],
    ms: &[Metric],
    opts: &ReportOptions,
    cache: &mut BTreeMap<std::path::PathBuf, Vec<EpisodeLite>>,
) -> Result<Table, ReportError> {
    let mut t = Table::new("paired", "Paired differences against the reference variant (variant − reference)", &[
        ("variant", "variant"),
        ("reference", "reference"),
        ("metric", "metric"),
        ("unit", "paired over"),
        ("n", "pairs"),
        ("diff", "mean diff [95% CI]"),
        ("t", "t"),
        ("p_t", "p (paired t)"),
        ("p_sign_flip", "p (sign-flip)"),
    ]);
    let reference = match &opts.reference {
        Some(r) => variants.iter().find(|v| &v.label == r),
        None => variants.first(),
    };
    let Some(reference) = reference else { return Ok(t) };
    for v in variants.iter().filter(|v| v.label != reference.label) {
        for m in ms {
            let by_seed = v.runs.len() >= 2 && reference.runs.len() >= 2;
            let (a, b, unit) = if by_seed {
                let f = |x: Vec<(u64, f64)>| x.into_iter().map(|(s, y)| ((String::new(), s), y)).collect::<Vec<_>>();
                (f(seed_values(v, m)), f(seed_values(reference, m)), "seeds")
            } else if v.runs.len() == 1 && reference.runs.len() == 1 {
                (episode_values(&v.runs[0], m, cache)?, episode_values(&reference.runs[0], m, cache)?, "episodes")
            } else {
                continue;
            };
            let rb: BTreeMap<_, f64> = b.into_iter().collect();
            let d: Vec<f64> = a.iter().filter_map(|(k, x)| rb.get(k).map(|y| x - y)).collect();
            if d.is_empty() {
                continue;
            }
            let what = format!("paired:{}:{}:{}", v.label, reference.label, m.key());
            let c = ci(&d, opts, &what)?;
            let tt = paired_t(&d).map_err(|source| ReportError::Metric { what: what.clone(), source })?;
            let sf = sign_flip(&d, 16, opts.resamples, &mut rng_for(opts, &format!("{what}:flip")))
                .map_err(|source| ReportError::Metric { what: what.clone(), source })?;
            t.push(vec![
                Cell::text(&v.label),
                Cell::text(&reference.label),
                Cell::text(m.header()),
                Cell::text(unit),
                Cell::Int(d.len() as i64),
                Cell::Ci(c, 3),
                Cell::num(tt.t),
                Cell::num(tt.p),
                Cell::Num(sf.p, 3),
            ]);
        }
    }
    t.notes.push(
        "Two-sided tests. The sign-flip p-value is exact up to 16 pairs (its floor is 2/2^n: 0.25 with 3 seeds); t is undefined when all differences are equal.".into(),
    );
    Ok(t)
}
