//! The advantage-estimator seam.

use crate::{BatchError, RewardBatch};

/// Turns grouped reward vectors into one advantage per rollout.
///
/// Implementations live in `vigil-advantage`; the trainer only sees this trait. The batch is
/// already validated ([`RewardBatch`]), so the only failure left is a weight vector that does not
/// match the batch.
pub trait AdvantageEstimator: Send + Sync {
    /// Short name for logs (`"gdpo"`, `"grpo"`, ...).
    fn name(&self) -> &'static str;

    /// One advantage per rollout, in the batch's flat rollout order.
    fn estimate(&self, batch: &RewardBatch, weights: &[f64]) -> Result<Vec<f64>, BatchError>;
}
