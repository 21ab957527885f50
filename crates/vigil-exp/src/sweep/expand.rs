//! Expanding `[sweep]` axes into points: grid products crossed with zip lists, each point a
//! list of `--set`-style assignments with a readable label.

use anyhow::bail;
use vigil_report::point::Assignment;

use super::config::SweepConfig;

/// One point of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    /// `key=display` joined by commas, e.g. `advantage.kind=gdpo,seed=1`.
    pub label: String,
    /// The folder name (the label with unsafe characters replaced).
    pub folder: String,
    /// Axis values, grid keys first (alphabetical), then zip keys.
    pub assignments: Vec<Assignment>,
    /// The same as `--set` arguments.
    pub sets: Vec<String>,
}

/// Longest label part shown for an unnamed table or array value.
const MAX_INLINE: usize = 40;

fn display(key: &str, v: &toml::Value, name: Option<&String>) -> anyhow::Result<String> {
    if let Some(n) = name {
        return Ok(n.clone());
    }
    let s = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Table(_) | toml::Value::Array(_) => {
            let compact: String = v
                .to_string()
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '"')
                .collect();
            if compact.len() > MAX_INLINE {
                bail!(
                    "axis `{key}`: the value {v} is too long for a folder name; name the values in [sweep.names] \"{key}\" = [...]"
                );
            }
            compact
        }
        // Learning rates and epsilons read best in exponent form: `1e-5`, not `0.00001`.
        toml::Value::Float(f) if *f != 0.0 && (f.abs() < 1e-3 || f.abs() >= 1e6) => {
            format!("{f:e}")
        }
        other => other.to_string(),
    };
    Ok(s)
}

/// A folder-safe version of a label: ASCII letters, digits and `._=,+-`; the rest become `_`.
pub(crate) fn folder_name(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=,+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Every point of `cfg`, in order: grid combinations (last key fastest) × zip index.
pub(crate) fn points(cfg: &SweepConfig) -> anyhow::Result<Vec<Point>> {
    let axes: Vec<(&String, &Vec<toml::Value>)> = cfg.grid.iter().collect();
    let mut combos: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
    for (ai, (_, vs)) in axes.iter().enumerate() {
        combos = combos
            .into_iter()
            .flat_map(|c| (0..vs.len()).map(move |vi| [c.clone(), vec![(ai, vi)]].concat()))
            .collect();
    }
    let zlen = cfg.zip.values().next().map_or(1, Vec::len);
    let mut out = Vec::new();
    for combo in &combos {
        for zi in 0..zlen {
            let mut assignments = Vec::new();
            for &(ai, vi) in combo {
                let (k, vs) = axes[ai];
                assignments.push(assign(cfg, k, &vs[vi], vi)?);
            }
            for (k, vs) in &cfg.zip {
                assignments.push(assign(cfg, k, &vs[zi], zi)?);
            }
            let label = assignments
                .iter()
                .map(|a| format!("{}={}", a.key, a.display))
                .collect::<Vec<_>>()
                .join(",");
            let sets = assignments
                .iter()
                .map(|a| format!("{}={}", a.key, toml_text(&a.value)))
                .collect();
            out.push(Point {
                folder: folder_name(&label),
                label,
                assignments,
                sets,
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for p in &out {
        if !seen.insert(p.folder.clone()) {
            bail!(
                "two points share the folder name `{}`; give distinct [sweep.names]",
                p.folder
            );
        }
    }
    Ok(out)
}

fn assign(cfg: &SweepConfig, key: &str, v: &toml::Value, i: usize) -> anyhow::Result<Assignment> {
    let name = cfg.names.get(key).and_then(|n| n.get(i));
    Ok(Assignment {
        key: key.to_string(),
        value: serde_json::to_value(v)?,
        display: display(key, v, name)?,
    })
}

/// A JSON value (as stored in an assignment) back as TOML value text for `--set`.
fn toml_text(v: &serde_json::Value) -> String {
    match serde_json::from_value::<toml::Value>(v.clone()) {
        // `2e-5` is valid TOML and what the user wrote more often than `0.00002`.
        Ok(toml::Value::Float(f)) if f != 0.0 && (f.abs() < 1e-3 || f.abs() >= 1e6) => {
            format!("{f:e}")
        }
        Ok(t) => t.to_string(),
        Err(_) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_times_zip_in_order_with_labels_and_sets() {
        let cfg: SweepConfig = toml::from_str(
            r#"
            grid = { "advantage.kind" = ["gdpo", "grpo"], seed = [1, 2] }
            zip = { "trainer.lr" = [1e-5, 2e-5], "eval.limit" = [4, 8] }
            "#,
        )
        .unwrap();
        let ps = points(&cfg).unwrap();
        assert_eq!(ps.len(), 8);
        assert_eq!(
            ps[0].label,
            "advantage.kind=gdpo,seed=1,eval.limit=4,trainer.lr=1e-5"
        );
        assert_eq!(
            ps[1].label,
            "advantage.kind=gdpo,seed=1,eval.limit=8,trainer.lr=2e-5"
        );
        assert_eq!(
            ps[2].label,
            "advantage.kind=gdpo,seed=2,eval.limit=4,trainer.lr=1e-5"
        );
        assert_eq!(
            ps[7].sets,
            vec![
                "advantage.kind=\"grpo\"",
                "seed=2",
                "eval.limit=8",
                "trainer.lr=2e-5"
            ]
        );
        assert_eq!(ps[0].folder, ps[0].label);
    }

    #[test]
    fn tables_need_short_values_or_names() {
        let cfg: SweepConfig =
            toml::from_str(r#"grid = { "rewards.weights" = [{ a = 1.0 }, { a = 2.0, b = 1.0 }] }"#)
                .unwrap();
        let ps = points(&cfg).unwrap();
        assert_eq!(ps[0].label, "rewards.weights={a=1.0}");
        assert_eq!(ps[0].folder, "rewards.weights=_a=1.0_");
        assert_eq!(ps[1].sets, vec!["rewards.weights={ a = 2.0, b = 1.0 }"]);
        let long: SweepConfig = toml::from_str(
            r#"grid = { "rewards.weights" = [{ attribution = 1.0, containment = 1.0, injection = 1.0, efficiency = 1.0 }] }"#,
        )
        .unwrap();
        assert!(
            points(&long)
                .unwrap_err()
                .to_string()
                .contains("[sweep.names]")
        );
        let named: SweepConfig = toml::from_str(
            r#"grid = { "rewards.weights" = [{ attribution = 1.0, containment = 1.0, injection = 1.0, efficiency = 1.0 }] }
            names = { "rewards.weights" = ["equal"] }"#,
        )
        .unwrap();
        assert_eq!(points(&named).unwrap()[0].label, "rewards.weights=equal");
        let clash: SweepConfig = toml::from_str(r#"grid = { a = ["x/y", "x_y"] }"#).unwrap();
        assert!(
            points(&clash)
                .unwrap_err()
                .to_string()
                .contains("share the folder")
        );
    }
}
