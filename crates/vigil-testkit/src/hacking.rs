//! Checks of an environment's reward-hacking detectors against its own probes.

use vigil_core::{Environment, EpisodeRecord, hacking_rates};

/// Each declared detector's share of `records` it flags, by name.
pub fn detector_rates(env: &dyn Environment, records: &[EpisodeRecord]) -> Vec<(String, f64)> {
    let flags: Vec<_> = records.iter().map(|r| env.detect_hacking(&r.transcript, &r.outcome)).collect();
    let detectors = env.hacking_detectors();
    let rates = hacking_rates(detectors.len(), &flags);
    detectors.into_iter().map(|d| d.name).zip(rates).collect()
}

/// The probe `name`'s detector rate is at least `min` and above the honest baseline's; `Ok(false)`
/// when the environment has no detector of that name.
pub fn probe_trips_its_detector(name: &str, probe: &[(String, f64)], honest: &[(String, f64)], min: f64) -> Result<bool, String> {
    let Some(i) = probe.iter().position(|(n, _)| n == name) else { return Ok(false) };
    let (p, h) = (probe[i].1, honest[i].1);
    if p < min || p <= h {
        return Err(format!("probe `{name}` trips its detector on {p:.3} of the episodes (honest: {h:.3}, minimum {min}): {probe:?}"));
    }
    Ok(true)
}
