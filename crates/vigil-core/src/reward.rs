//! Named reward components.

use serde::{Deserialize, Serialize};

/// What a reward component is: its name, documented range and meaning.
///
/// The range is part of the contract: property tests check that every score stays inside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentInfo {
    /// Stable identifier, used as the key in configs (`[rewards.weights]`) and in metrics.
    pub name: String,
    /// Smallest value the component can take (may be `-inf` only if documented as unbounded).
    pub min: f64,
    /// Largest value the component can take.
    pub max: f64,
    /// One sentence on what the component rewards.
    pub description: String,
}

impl ComponentInfo {
    /// Builds an info record.
    pub fn new(name: impl Into<String>, min: f64, max: f64, description: impl Into<String>) -> Self {
        Self { name: name.into(), min, max, description: description.into() }
    }
}

/// One reward component, computed from an environment's graded episode `O`.
///
/// Components are separate values on purpose: GDPO normalizes each one within its group before
/// the weighted sum, so a component must never be folded into another.
pub trait RewardComponent<O: ?Sized>: Send + Sync {
    /// Name, range and meaning.
    fn info(&self) -> ComponentInfo;
    /// The component's value for one graded episode. Pure: same input, same output.
    fn score(&self, outcome: &O) -> f64;
}

/// Scores `outcome` with every component, in order.
pub fn score_components<O: ?Sized>(
    components: &[Box<dyn RewardComponent<O>>],
    outcome: &O,
) -> RewardVector {
    let mut v = RewardVector::default();
    for c in components {
        v.push(c.info().name, c.score(outcome));
    }
    v
}

/// Named reward components of one rollout, in a fixed order.
///
/// Serialized as a JSON object (`{"attribution": 1.0, ...}`) that keeps the order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RewardVector {
    entries: Vec<(String, f64)>,
}

impl RewardVector {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a vector from `(name, value)` pairs.
    pub fn from_pairs<I, S>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (S, f64)>,
        S: Into<String>,
    {
        let mut v = Self::default();
        for (n, x) in pairs {
            v.push(n, x);
        }
        v
    }

    /// Appends a component, or overwrites it if the name is already present.
    pub fn push(&mut self, name: impl Into<String>, value: f64) {
        let name = name.into();
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(e) => e.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// The value of component `name`, if present.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// Component names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// Component values in order.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.entries.iter().map(|(_, v)| *v)
    }

    /// `(name, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// Number of components.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no component.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Unweighted sum of all components (the environment's own "score" where it has one).
    pub fn sum(&self) -> f64 {
        self.values().sum()
    }
}

impl Serialize for RewardVector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for RewardVector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RewardVector;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map from component name to number")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<RewardVector, A::Error> {
                let mut v = RewardVector::default();
                while let Some((k, x)) = a.next_entry::<String, f64>()? {
                    if v.get(&k).is_some() {
                        return Err(serde::de::Error::custom(format!("duplicate reward component `{k}`")));
                    }
                    v.push(k, x);
                }
                Ok(v)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_round_trips_as_object() {
        let v = RewardVector::from_pairs([("b", 1.0), ("a", -0.5)]);
        let s = serde_json::to_string(&v).unwrap();
        assert_eq!(s, r#"{"b":1.0,"a":-0.5}"#);
        let back: RewardVector = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
        assert_eq!(v.sum(), 0.5);
    }

    #[test]
    fn rejects_duplicate_names() {
        let e = serde_json::from_str::<RewardVector>(r#"{"a":1,"a":2}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate reward component `a`"));
    }
}
