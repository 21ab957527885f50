//! How per-token losses become one number: the weight of each sequence's tokens for a whole
//! optimizer batch, pooled or balanced between parts of the batch (self-play roles).
//!
//! Computed on the host from the masks of the *whole* batch, so that splitting it into
//! micro-batches and accumulating gradients gives exactly the full-batch gradient.

use crate::loss::Aggregation;

/// Per-token aggregation weights for a whole optimizer batch.
///
/// `lengths[s]` is the number of valid tokens of sequence `s`; the result is one weight per
/// sequence, applied to each of its valid tokens, such that `Σ_s Σ_t w_s ℓ_st` is the aggregated
/// loss. Empty sequences get weight 0 and do not count as sequences.
pub fn aggregation_weights(agg: Aggregation, lengths: &[usize], norm_len: usize) -> Vec<f64> {
    let seqs = lengths.iter().filter(|&&n| n > 0).count();
    let tokens: usize = lengths.iter().sum();
    lengths
        .iter()
        .map(|&n| {
            if n == 0 {
                return 0.0;
            }
            match agg {
                Aggregation::TokenMean => 1.0 / tokens as f64,
                Aggregation::SeqMeanTokenMean => 1.0 / (seqs as f64 * n as f64),
                Aggregation::SeqMeanTokenSumNorm => 1.0 / (seqs as f64 * norm_len.max(1) as f64),
            }
        })
        .collect()
}

/// [`aggregation_weights`] applied within each part of the batch separately (`parts[s]` names
/// sequence `s`'s part, e.g. its self-play role), the parts' losses then averaged with weights
/// `part_weight(part)` (normalized over the parts present): with equal weights every part
/// weighs the same whatever its share of the sequences. With one part this is
/// [`aggregation_weights`].
pub fn balanced_aggregation_weights(
    agg: Aggregation,
    lengths: &[usize],
    norm_len: usize,
    parts: &[usize],
    part_weight: impl Fn(usize) -> f64,
) -> Vec<f64> {
    debug_assert_eq!(lengths.len(), parts.len());
    let mut ids: Vec<usize> = parts
        .iter()
        .zip(lengths)
        .filter(|(_, n)| **n > 0)
        .map(|(p, _)| *p)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let total: f64 = ids.iter().map(|&id| part_weight(id)).sum();
    let mut out = vec![0.0; lengths.len()];
    for &id in &ids {
        let own: Vec<usize> = lengths
            .iter()
            .zip(parts)
            .map(|(&n, &p)| if p == id { n } else { 0 })
            .collect();
        let share = part_weight(id) / total;
        for (o, w) in out.iter_mut().zip(aggregation_weights(agg, &own, norm_len)) {
            *o += w * share;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    /// Part `p`'s share of the loss: its sequences' weights times their lengths.
    fn part_total(w: &[f64], lengths: &[usize], parts: &[usize], p: usize) -> f64 {
        w.iter().zip(lengths).zip(parts).filter(|(_, q)| **q == p).map(|((w, &n), _)| w * n as f64).sum()
    }

    #[test]
    fn balanced_weights_give_each_part_the_same_total() {
        // Part 0: three sequences; part 1: one. Pooled, part 1 weighs 1/4; balanced, 1/2.
        let lengths = [2, 3, 0, 4, 5];
        let parts = [0, 0, 1, 0, 1];
        let w = balanced_aggregation_weights(
            Aggregation::SeqMeanTokenMean,
            &lengths,
            1,
            &parts,
            |_| 1.0,
        );
        close(part_total(&w, &lengths, &parts, 0), 0.5);
        close(part_total(&w, &lengths, &parts, 1), 0.5);
        close(w[2], 0.0);
        // Part 1 weighted 3: shares 1/4 and 3/4.
        let w =
            balanced_aggregation_weights(Aggregation::SeqMeanTokenMean, &lengths, 1, &parts, |p| {
                if p == 1 { 3.0 } else { 1.0 }
            });
        close(part_total(&w, &lengths, &parts, 0), 0.25);
        close(part_total(&w, &lengths, &parts, 1), 0.75);
        assert_eq!(
            balanced_aggregation_weights(Aggregation::TokenMean, &lengths, 1, &[3; 5], |_| 2.0),
            aggregation_weights(Aggregation::TokenMean, &lengths, 1),
            "one part: the pooled weights"
        );
    }
}
