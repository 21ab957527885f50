//! Checks that an environment's metric declaration (`Environment::metrics`) matches what its
//! outcomes and summaries carry: reports read values only through the declaration, so a key
//! that drifted would show as an empty column.

use vigil_core::{Environment, MetricSource, Outcome};

/// Every declared key is unique and present: episode metrics in some outcome, summary metrics
/// and labels in `summarize(outcomes)`, label metrics only with label classes, and the frontier
/// names declared metrics. `outcomes` should cover the environment's cases (e.g. a baseline
/// over a whole split).
pub fn check_declared_metrics(env: &dyn Environment, outcomes: &[Outcome]) -> Result<(), String> {
    let decl = env.metrics();
    let summary = env.summarize(outcomes);
    for (i, m) in decl.metrics.iter().enumerate() {
        if decl.metrics[..i].iter().any(|x| x.key == m.key) {
            return Err(format!("{}: metric `{}` declared twice", env.name(), m.key));
        }
        let present = match m.source {
            MetricSource::Episode => outcomes.iter().any(|o| o.metrics.contains_key(&m.key)),
            MetricSource::Summary => summary.metrics.contains_key(&m.key),
            MetricSource::Label => summary.labels.contains_key(&m.key),
            MetricSource::Accuracy | MetricSource::MacroF1 => env.label_classes().is_some(),
            MetricSource::FormatValid => true,
        };
        if !present {
            return Err(format!(
                "{}: declared metric `{}` ({:?}) is in no outcome or summary",
                env.name(),
                m.key,
                m.source
            ));
        }
    }
    if let Some(f) = &decl.frontier {
        for k in [&f.x, &f.y] {
            if !decl.metrics.iter().any(|m| &m.key == k) {
                return Err(format!(
                    "{}: frontier axis `{k}` is not a declared metric",
                    env.name()
                ));
            }
        }
    }
    Ok(())
}
