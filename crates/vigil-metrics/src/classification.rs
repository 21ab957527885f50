//! Label metrics: accuracy, per-class precision/recall/F1, macro-F1, confusion matrix.

use serde::{Deserialize, Serialize};

use crate::MetricError;

/// Column name used in confusion matrices for answers that could not be parsed into a label.
pub const INVALID: &str = "(invalid)";

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// Class label.
    pub class: String,
    /// Number of gold samples of this class.
    pub support: usize,
    /// Number of predictions of this class.
    pub predicted: usize,
    /// TP / predicted (0 when nothing was predicted as this class).
    pub precision: f64,
    /// TP / support (`None` when the class has no gold sample).
    pub recall: Option<f64>,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
}

/// Everything a report needs about a labelled evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassReport {
    /// Number of samples.
    pub n: usize,
    /// Fraction of samples whose prediction equals the gold label.
    pub accuracy: f64,
    /// Mean F1 over the classes with at least one gold sample ("supported" classes), so an
    /// absent class neither rewards nor punishes a policy.
    pub macro_f1: f64,
    /// Per-class scores, in the order of the class list.
    pub per_class: Vec<ClassScores>,
    /// Row labels of the confusion matrix (gold), the class list.
    pub classes: Vec<String>,
    /// `confusion[gold][pred]`; the last column counts unparsable answers ([`INVALID`]).
    pub confusion: Vec<Vec<usize>>,
}

impl ClassReport {
    /// Scores `(gold, predicted)` pairs against `classes`. Predictions outside the class list and
    /// `None` count as invalid (wrong). Gold labels must be in the class list.
    pub fn new<G, P>(classes: &[String], pairs: impl IntoIterator<Item = (G, Option<P>)>) -> Result<Self, MetricError>
    where
        G: AsRef<str>,
        P: AsRef<str>,
    {
        let k = classes.len();
        let idx = |s: &str| classes.iter().position(|c| c == s);
        let mut confusion = vec![vec![0usize; k + 1]; k];
        let mut n = 0;
        for (g, p) in pairs {
            let Some(gi) = idx(g.as_ref()) else {
                return Err(MetricError::UnknownClass(g.as_ref().to_string()));
            };
            let pi = p.and_then(|p| idx(p.as_ref())).unwrap_or(k);
            confusion[gi][pi] += 1;
            n += 1;
        }
        if n == 0 {
            return Err(MetricError::Empty);
        }
        let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
        let per_class: Vec<ClassScores> = (0..k)
            .map(|i| {
                let tp = confusion[i][i];
                let support: usize = confusion[i].iter().sum();
                let predicted: usize = (0..k).map(|g| confusion[g][i]).sum();
                let precision = if predicted > 0 { tp as f64 / predicted as f64 } else { 0.0 };
                let recall = (support > 0).then(|| tp as f64 / support as f64);
                let r = recall.unwrap_or(0.0);
                let f1 = if precision + r > 0.0 { 2.0 * precision * r / (precision + r) } else { 0.0 };
                ClassScores { class: classes[i].clone(), support, predicted, precision, recall, f1 }
            })
            .collect();
        let supported: Vec<f64> = per_class.iter().filter(|c| c.support > 0).map(|c| c.f1).collect();
        let macro_f1 = supported.iter().sum::<f64>() / supported.len() as f64;
        Ok(Self {
            n,
            accuracy: correct as f64 / n as f64,
            macro_f1,
            per_class,
            classes: classes.to_vec(),
            confusion,
        })
    }

    /// Recall of `class`, if it has gold samples.
    pub fn recall(&self, class: &str) -> Option<f64> {
        self.per_class.iter().find(|c| c.class == class).and_then(|c| c.recall)
    }
}

/// Fraction of equal pairs.
pub fn accuracy<T: PartialEq>(gold: &[T], pred: &[T]) -> Result<f64, MetricError> {
    if gold.len() != pred.len() {
        return Err(MetricError::Length { left: gold.len(), right: pred.len() });
    }
    if gold.is_empty() {
        return Err(MetricError::Empty);
    }
    Ok(gold.iter().zip(pred).filter(|(g, p)| g == p).count() as f64 / gold.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(cs: &[&str]) -> Vec<String> {
        cs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hand_computed_three_class_case() {
        // gold:  a a a b b c
        // pred:  a a b b a -   (last one unparsable)
        let pairs = [("a", Some("a")), ("a", Some("a")), ("a", Some("b")), ("b", Some("b")), ("b", Some("a")), ("c", None)];
        let r = ClassReport::new(&classes(&["a", "b", "c"]), pairs).unwrap();
        assert_eq!(r.n, 6);
        assert!((r.accuracy - 0.5).abs() < 1e-12);
        // a: tp 2, pred 3, support 3 -> p 2/3 r 2/3 f1 2/3
        // b: tp 1, pred 2, support 2 -> p 1/2 r 1/2 f1 1/2
        // c: tp 0, support 1 -> f1 0
        assert!((r.per_class[0].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.per_class[1].f1 - 0.5).abs() < 1e-12);
        assert_eq!(r.per_class[2].f1, 0.0);
        assert!((r.macro_f1 - (2.0 / 3.0 + 0.5) / 3.0).abs() < 1e-12);
        assert_eq!(r.confusion, vec![vec![2, 1, 0, 0], vec![1, 1, 0, 0], vec![0, 0, 0, 1]]);
        assert_eq!(r.recall("c"), Some(0.0));
    }

    #[test]
    fn macro_f1_ignores_unsupported_classes() {
        let pairs = [("a", Some("a")), ("b", Some("b"))];
        let r = ClassReport::new(&classes(&["a", "b", "c"]), pairs).unwrap();
        assert_eq!(r.macro_f1, 1.0);
        assert_eq!(r.recall("c"), None);
    }

    #[test]
    fn errors() {
        assert_eq!(accuracy(&[1], &[1, 2]), Err(MetricError::Length { left: 1, right: 2 }));
        assert_eq!(accuracy::<u8>(&[], &[]), Err(MetricError::Empty));
        assert_eq!(accuracy(&[1, 2, 3, 4], &[1, 0, 3, 0]), Ok(0.5));
        let none: [(&str, Option<&str>); 0] = [];
        assert_eq!(ClassReport::new(&classes(&["a"]), none), Err(MetricError::Empty));
    }
}
