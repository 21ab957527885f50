//! What an environment reports beyond its reward components, declared as data so reports need
//! no knowledge of any environment: the metrics its outcomes and summaries carry
//! ([`EnvMetrics`], from [`crate::Environment::metrics`]) and its typed aggregate
//! ([`EnvSummary`], from [`crate::Environment::summarize`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a declared metric's value lives in an evaluation summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricSource {
    /// `Outcome::metrics[key]`, averaged over the episodes that report it.
    Episode,
    /// `EnvSummary::metrics[key]`, the environment's own aggregate.
    Summary,
    /// `EnvSummary::labels[key]`, a categorical verdict (shown as text).
    Label,
    /// Accuracy of the outcomes' predictions over `Environment::label_classes`.
    Accuracy,
    /// Macro-F1 of the outcomes' predictions over `Environment::label_classes`.
    MacroF1,
    /// Share of episodes whose answers all parsed.
    FormatValid,
}

/// One metric an environment reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricInfo {
    /// Key in its source (`false_positive`, `recall_malicious`, …); unique per environment.
    pub key: String,
    /// Column header in tables.
    pub header: String,
    /// Where the value is read from.
    pub source: MetricSource,
    /// Shown in the variant comparison (with bootstrap intervals and paired tests), not only in
    /// the environment's own table.
    pub headline: bool,
}

impl MetricInfo {
    /// A metric of `source`.
    pub fn new(key: &str, header: &str, source: MetricSource) -> Self {
        Self {
            key: key.into(),
            header: header.into(),
            source,
            headline: false,
        }
    }

    /// The same metric, also in the variant comparison.
    pub fn headline(mut self) -> Self {
        self.headline = true;
        self
    }
}

/// A scatter of two episode metrics, one point per table row (e.g. a containment frontier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frontier {
    /// Figure title.
    pub title: String,
    /// x metric key (a declared metric).
    pub x: String,
    /// y metric key (a declared metric).
    pub y: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
}

/// Everything an environment's report table shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvMetrics {
    /// Section and table title.
    pub title: String,
    /// Columns, in order.
    pub metrics: Vec<MetricInfo>,
    /// Optional scatter of two metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontier: Option<Frontier>,
    /// Notes printed under the table (how rates are counted, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A confusion matrix: gold rows × predicted columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confusion {
    /// Gold labels.
    pub rows: Vec<String>,
    /// Predicted labels (may add e.g. `unknown` for unparsable answers).
    pub cols: Vec<String>,
    /// `counts[row][col]`.
    pub counts: Vec<Vec<u64>>,
}

/// An environment's own aggregate over finished episodes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSummary {
    /// Numbers the [`EnvMetrics`] columns of source `summary` read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    /// Verdicts the columns of source `label` read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The environment's own confusion matrix, when it grades labels itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion: Option<Confusion>,
    /// The full aggregate in the environment's own shape, for people reading the file.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

impl EnvSummary {
    /// Whether the environment reported nothing.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
            && self.labels.is_empty()
            && self.confusion.is_none()
            && self.detail.is_null()
    }
}
