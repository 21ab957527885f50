//! Ranking metrics.

use crate::MetricError;

/// Area under the ROC curve of `scores` for binary `labels` (true = positive), computed as the
/// Mann–Whitney U statistic with tied scores given their average rank (so ties count ½).
pub fn auroc(scores: &[f64], labels: &[bool]) -> Result<f64, MetricError> {
    if scores.len() != labels.len() {
        return Err(MetricError::Length { left: scores.len(), right: labels.len() });
    }
    if let Some(index) = scores.iter().position(|s| s.is_nan()) {
        return Err(MetricError::Probability { index, value: scores[index] });
    }
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return Err(MetricError::OneClass);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks are 1-based; the tie block i..=j shares the average rank.
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_pos += order[i..=j].iter().filter(|&&k| labels[k]).count() as f64 * avg;
        i = j + 1;
    }
    let p = pos as f64;
    Ok((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * neg as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        assert_eq!(auroc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap(), 0.75);
        assert_eq!(auroc(&[0.1, 0.9], &[false, true]).unwrap(), 1.0);
        assert_eq!(auroc(&[0.9, 0.1], &[false, true]).unwrap(), 0.0);
        // All tied: 0.5.
        assert_eq!(auroc(&[0.5; 4], &[true, false, true, false]).unwrap(), 0.5);
        // One tie across classes: pairs (p=.5 vs n=.5) count 1/2: positives {.5,.9}, negatives {.5,.1}
        // pairs: (.5,.5)=.5 (.5,.1)=1 (.9,.5)=1 (.9,.1)=1 -> 3.5/4
        assert_eq!(auroc(&[0.5, 0.9, 0.5, 0.1], &[true, true, false, false]).unwrap(), 0.875);
    }

    #[test]
    fn errors() {
        assert_eq!(auroc(&[0.1], &[true]), Err(MetricError::OneClass));
        assert_eq!(auroc(&[0.1], &[true, false]), Err(MetricError::Length { left: 1, right: 2 }));
    }
}
