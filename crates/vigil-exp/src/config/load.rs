//! Reading a config file, applying `--set` overrides, and turning serde errors into messages
//! that name the file, the line and the key.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use toml_edit::{DocumentMut, Item, Table, Value};

use super::ExperimentConfig;

/// A parsed, validated config and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct LoadedConfig {
    /// The file it was read from.
    pub path: PathBuf,
    /// The typed config (overrides applied, `name` filled in).
    pub config: ExperimentConfig,
}

impl LoadedConfig {
    /// The run name: `name` from the config, else the file stem.
    pub(crate) fn name(&self) -> String {
        self.config.name.clone().unwrap_or_else(|| stem(&self.path))
    }

    /// The resolved config as TOML (every default spelled out).
    pub(crate) fn resolved_toml(&self) -> anyhow::Result<String> {
        let mut c = self.config.clone();
        c.name = Some(self.name());
        toml::to_string_pretty(&c).context("serializing the resolved config")
    }

    /// The resolved TOML and config of a run in `dir`: [`POINT_DIR`] in config strings becomes
    /// `dir` (a per-run model built by `[trainer.init]`), re-checked after the substitution.
    pub(crate) fn placed_in(&self, dir: &Path) -> anyhow::Result<(String, ExperimentConfig)> {
        let text = self.resolved_toml()?;
        if !text.contains(POINT_DIR) {
            return Ok((text, self.config.clone()));
        }
        let d = dir.display().to_string();
        anyhow::ensure!(!d.contains(['"', '\\', '\n']), "run folder {d} cannot be written into a TOML string");
        let text = text.replace(POINT_DIR, &d);
        let config: ExperimentConfig =
            toml::from_str(&text).with_context(|| format!("after {POINT_DIR} substitution"))?;
        config.validate().with_context(|| format!("after {POINT_DIR} substitution"))?;
        Ok((text, config))
    }
}

/// Placeholder in config strings replaced by the run's folder (`exp run --out`, or a sweep
/// point's folder): `policy.model = "{point_dir}/model"`.
pub(crate) const POINT_DIR: &str = "{point_dir}";

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "run".to_string(), |s| s.to_string_lossy().into_owned())
}

/// Reads `path`, applies `sets` (`key.path=value`), deserializes and validates.
pub(crate) fn load(path: &Path, sets: &[String]) -> anyhow::Result<LoadedConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config = parse(&text, path, sets)?;
    config
        .validate()
        .with_context(|| format!("{}: invalid config", path.display()))?;
    Ok(LoadedConfig {
        path: path.to_path_buf(),
        config,
    })
}

/// Parses config text with overrides; errors name `file:line` and the offending key.
pub(crate) fn parse(text: &str, path: &Path, sets: &[String]) -> anyhow::Result<ExperimentConfig> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        anyhow::anyhow!(
            "{}{}",
            place(path, text, e.span().map(|s| s.start)),
            one_line(e.message())
        )
    })?;
    for s in sets {
        apply_set(&mut doc, s)?;
    }
    let merged = doc.to_string();
    toml::from_str::<ExperimentConfig>(&merged).map_err(|e| {
        let msg = one_line(e.message());
        let line = locate(&msg, &merged, e.span().map(|s| s.start), text, sets);
        match line {
            Located::File(l) => anyhow::anyhow!("{}:{}: {}", path.display(), l, msg),
            Located::Set(s) => anyhow::anyhow!("--set {}: {}", s, msg),
            Located::Unknown => anyhow::anyhow!("{}: {}", path.display(), msg),
        }
    })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn place(path: &Path, text: &str, offset: Option<usize>) -> String {
    match offset {
        Some(o) => format!("{}:{}: ", path.display(), line_of(text, o)),
        None => format!("{}: ", path.display()),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

enum Located {
    File(usize),
    Set(String),
    Unknown,
}

/// Finds the line of the key an error is about. Serde reports errors inside tagged enums at the
/// enclosing table, so for "unknown field `k`" we look for `k =` from that table on.
fn locate(
    msg: &str,
    merged: &str,
    offset: Option<usize>,
    original: &str,
    sets: &[String],
) -> Located {
    let key = msg
        .strip_prefix("unknown field `")
        .or_else(|| msg.strip_prefix("unknown variant `"))
        .and_then(|r| r.split('`').next());
    if let Some(k) = key {
        if let Some(s) = sets.iter().find(|s| {
            s.split('=')
                .next()
                .is_some_and(|p| p.trim().ends_with(k) || s.contains(&format!("\"{k}\"")))
        }) {
            if !original.contains(k) {
                return Located::Set(s.clone());
            }
        }
    }
    let Some(off) = offset else {
        return Located::Unknown;
    };
    let merged_line = line_of(merged, off);
    let lines: Vec<&str> = merged.lines().collect();
    let mut target = merged_line;
    if let Some(k) = key {
        let hit = lines
            .iter()
            .enumerate()
            .skip(merged_line.saturating_sub(1))
            .find(|(_, l)| mentions_key(l, k));
        if let Some((i, _)) = hit {
            target = i + 1;
        }
    }
    // Map the merged line back to the original file by content (overrides can shift lines).
    let content = lines.get(target - 1).map(|l| l.trim()).unwrap_or("");
    match original
        .lines()
        .position(|l| l.trim() == content && !content.is_empty())
    {
        Some(i) => Located::File(i + 1),
        None if sets.is_empty() => Located::File(target),
        None => Located::Unknown,
    }
}

fn mentions_key(line: &str, key: &str) -> bool {
    let l = line.trim_start();
    if l.starts_with('#') {
        return false;
    }
    let bare = format!("{key} ");
    let eq = format!("{key}=");
    let quoted = format!("\"{key}\"");
    let value_side = |s: &str| s.contains(&quoted);
    l.starts_with(&bare)
        || l.starts_with(&eq)
        || l.starts_with(&quoted)
        || value_side(l)
        || l.contains(&format!("{{ {key} "))
        || l.contains(&format!(", {key} "))
        || l.contains(&format!(".{key} "))
        || l.contains(&format!("{{{key}="))
        || l.contains(&format!(",{key}="))
}

/// Applies one `a.b.c=value` override; the value is TOML when it parses, else a string.
fn apply_set(doc: &mut DocumentMut, set: &str) -> anyhow::Result<()> {
    let Some((key, raw)) = set.split_once('=') else {
        bail!("--set {set}: expected KEY=VALUE");
    };
    let parts: Vec<&str> = key.trim().split('.').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        bail!("--set {set}: empty key segment");
    }
    let value: Value = raw
        .trim()
        .parse()
        .unwrap_or_else(|_| Value::from(raw.trim()));
    let mut table: &mut Table = doc.as_table_mut();
    for (i, p) in parts[..parts.len() - 1].iter().enumerate() {
        let entry = table.entry(p).or_insert_with(|| Item::Table(Table::new()));
        if let Some(inline) = entry.as_inline_table_mut() {
            let t = std::mem::take(inline).into_table();
            *entry = Item::Table(t);
        }
        table = match entry.as_table_mut() {
            Some(t) => t,
            None => bail!("--set {set}: `{}` is not a table", parts[..=i].join(".")),
        };
    }
    table.insert(parts[parts.len() - 1], Item::Value(value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> DocumentMut {
        s.parse().unwrap()
    }

    #[test]
    fn set_creates_and_replaces_nested_keys() {
        let mut d = doc("[trainer]\nlr = 1.0\n[eval]\nbaselines = []\n");
        apply_set(&mut d, "trainer.lr=1e-5").unwrap();
        apply_set(&mut d, "advantage.kind=gdpo").unwrap();
        apply_set(&mut d, "seed=3").unwrap();
        let v: toml::Table = toml::from_str(&d.to_string()).unwrap();
        assert_eq!(v["trainer"]["lr"].as_float(), Some(1e-5));
        assert_eq!(v["advantage"]["kind"].as_str(), Some("gdpo"));
        assert_eq!(v["seed"].as_integer(), Some(3));
        assert!(apply_set(&mut d, "nokey").is_err());
        assert!(
            apply_set(&mut d, "seed.x=1")
                .unwrap_err()
                .to_string()
                .contains("`seed` is not a table")
        );
    }

    #[test]
    fn set_descends_into_inline_tables() {
        let mut d = doc("rewards = { weights = { a = 1.0 } }\n");
        apply_set(&mut d, "rewards.weights.b=2").unwrap();
        let v: toml::Table = toml::from_str(&d.to_string()).unwrap();
        assert_eq!(v["rewards"]["weights"]["b"].as_integer(), Some(2));
    }
}
