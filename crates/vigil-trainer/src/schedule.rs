//! Learning-rate schedules: linear warm-up, then constant, cosine or linear decay.
//!
//! The schedule is a pure function of the step index, so a resumed run needs no scheduler
//! state: the step number in the checkpoint is enough.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Shape of the learning rate after warm-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// Peak rate until the end.
    Constant,
    /// Half cosine from the peak down to `min_lr_ratio · peak`.
    #[default]
    Cosine,
    /// Straight line from the peak down to `min_lr_ratio · peak`.
    Linear,
}

/// A learning-rate schedule over `total` optimizer steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Peak rate.
    pub peak: f64,
    /// Warm-up steps (rate rises linearly to the peak, reaching it at step `warmup - 1`).
    pub warmup: u64,
    /// Decay shape.
    pub kind: ScheduleKind,
    /// Final rate as a fraction of the peak (cosine and linear).
    pub min_ratio: f64,
    /// Steps in the phase.
    pub total: u64,
}

impl Schedule {
    /// The rate used by optimizer step `step` (0-based).
    pub fn lr(&self, step: u64) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.total.saturating_sub(self.warmup).max(1);
        let progress = ((step - self.warmup) as f64 / span as f64).min(1.0);
        let factor = match self.kind {
            ScheduleKind::Constant => 1.0,
            ScheduleKind::Cosine => 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
            ScheduleKind::Linear => 1.0 - progress,
        };
        self.peak * (self.min_ratio + (1.0 - self.min_ratio) * factor)
    }
}

/// Checks a peak rate and decay floor.
pub(crate) fn check_lr(field: &str, lr: f64, min_ratio: f64) -> Result<(), ConfigError> {
    if !(lr.is_finite() && lr > 0.0) {
        return Err(ConfigError::new(field, format!("must be a positive number, got {lr}")));
    }
    if !(0.0..=1.0).contains(&min_ratio) {
        return Err(ConfigError::new(
            field.replace("lr", "min_lr_ratio"),
            format!("must be in [0, 1], got {min_ratio}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn warmup_then_decay() {
        let s = Schedule { peak: 1.0, warmup: 4, kind: ScheduleKind::Cosine, min_ratio: 0.1, total: 14 };
        close(s.lr(0), 0.25);
        close(s.lr(3), 1.0);
        close(s.lr(4), 1.0);
        close(s.lr(9), 0.1 + 0.9 * 0.5); // half way: cos(π/2) = 0
        close(s.lr(14), 0.1);
        close(s.lr(100), 0.1);
        let l = Schedule { kind: ScheduleKind::Linear, ..s };
        close(l.lr(9), 0.1 + 0.9 * 0.5);
        close(l.lr(6), 0.1 + 0.9 * 0.8);
        let c = Schedule { kind: ScheduleKind::Constant, warmup: 0, ..s };
        close(c.lr(0), 1.0);
        close(c.lr(13), 1.0);
    }

    #[test]
    fn checks_ranges() {
        assert!(check_lr("lr", 0.0, 0.0).is_err());
        assert!(check_lr("sft.lr", 1e-4, 1.5).unwrap_err().to_string().contains("sft.min_lr_ratio"));
        check_lr("lr", 1e-4, 0.0).unwrap();
    }
}
