//! Tables written three ways from one value: Markdown (for reading and for `paper/`), CSV (for
//! spreadsheets) and JSON (full precision, for tests and scripts).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use vigil_core::write_atomic;
use vigil_metrics::inference::Interval;

use crate::ReportError;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (labels, names).
    Text(String),
    /// A number shown with `digits` decimals in Markdown; full precision in CSV and JSON.
    Num(f64, usize),
    /// A count.
    Int(i64),
    /// An estimate with a confidence interval: `est [lo, hi]`.
    Ci(Interval, usize),
    /// Not applicable or not measured (`–` in Markdown, empty in CSV, `null` in JSON).
    Missing,
}

impl Cell {
    /// A number with 3 decimals, or [`Cell::Missing`].
    pub fn num(x: Option<f64>) -> Self {
        x.map_or(Cell::Missing, |v| Cell::Num(v, 3))
    }
    /// Text.
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    fn markdown(&self) -> String {
        match self {
            Cell::Text(s) => s.replace('|', "\\|"),
            Cell::Num(v, d) => fmt_num(*v, *d),
            Cell::Int(i) => i.to_string(),
            Cell::Ci(c, d) => format!("{} [{}, {}]", fmt_num(c.estimate, *d), fmt_num(c.lo, *d), fmt_num(c.hi, *d)),
            Cell::Missing => "–".into(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Text(s) => json!(s),
            Cell::Num(v, _) => num_json(*v),
            Cell::Int(i) => json!(i),
            Cell::Ci(c, _) => json!({"estimate": num_json(c.estimate), "lo": num_json(c.lo), "hi": num_json(c.hi), "level": c.level, "n": c.n}),
            Cell::Missing => Value::Null,
        }
    }
}

/// Fixed decimals; `-0.000` is shown as `0.000`.
pub fn fmt_num(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}

fn num_json(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// A titled table with machine-readable column keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File stem (`comparison` → `comparison.md/.csv/.json`).
    pub name: String,
    /// Human title (Markdown heading).
    pub title: String,
    /// `(key, header)` per column; keys are the JSON/CSV names.
    pub columns: Vec<(String, String)>,
    /// Rows of cells, one per column.
    pub rows: Vec<Vec<Cell>>,
    /// Sentences printed under the table (definitions, sample sizes).
    pub notes: Vec<String>,
}

impl Table {
    /// An empty table.
    pub fn new(name: &str, title: &str, columns: &[(&str, &str)]) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            columns: columns.iter().map(|(k, h)| (k.to_string(), h.to_string())).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a column (before any row is pushed).
    pub fn column(&mut self, key: impl Into<String>, header: impl Into<String>) {
        self.columns.push((key.into(), header.into()));
    }

    /// Adds a row; it must have one cell per column.
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "table {}: row width", self.name);
        self.rows.push(row);
    }

    /// The Markdown rendering: heading, table, notes.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "**{}**\n", self.title);
        let heads: Vec<&str> = self.columns.iter().map(|(_, h)| h.as_str()).collect();
        let _ = writeln!(s, "| {} |", heads.join(" | "));
        let _ = writeln!(s, "|{}", self.columns.iter().enumerate().map(|(i, _)| if i == 0 { "---|" } else { "---:|" }).collect::<String>());
        for r in &self.rows {
            let cells: Vec<String> = r.iter().map(Cell::markdown).collect();
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
        for n in &self.notes {
            let _ = writeln!(s, "\n_{n}_");
        }
        s
    }

    /// Rows as JSON objects keyed by column key.
    pub fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut m = Map::new();
                for ((k, _), c) in self.columns.iter().zip(r) {
                    m.insert(k.clone(), c.json());
                }
                Value::Object(m)
            })
            .collect();
        json!({"title": self.title, "columns": self.columns.iter().map(|(k, _)| k).collect::<Vec<_>>(), "rows": rows, "notes": self.notes})
    }

    fn csv_bytes(&self, path: &Path) -> Result<Vec<u8>, ReportError> {
        let err = |e: csv::Error| ReportError::Csv { path: path.to_path_buf(), source: e };
        let mut w = csv::Writer::from_writer(Vec::new());
        let head: Vec<&String> = self.columns.iter().map(|(k, _)| k).collect();
        // Interval columns get `_lo` / `_hi` companions when any row has an interval there.
        let ci_cols: Vec<bool> = (0..self.columns.len()).map(|i| self.rows.iter().any(|r| matches!(r[i], Cell::Ci(..)))).collect();
        let mut header = Vec::new();
        for (i, k) in head.iter().enumerate() {
            header.push((*k).clone());
            if ci_cols[i] {
                header.push(format!("{k}_lo"));
                header.push(format!("{k}_hi"));
            }
        }
        w.write_record(&header).map_err(err)?;
        for r in &self.rows {
            let mut rec = Vec::new();
            for (i, c) in r.iter().enumerate() {
                match c {
                    Cell::Text(s) => rec.push(s.clone()),
                    Cell::Num(v, _) => rec.push(v.to_string()),
                    Cell::Int(x) => rec.push(x.to_string()),
                    Cell::Ci(ci, _) => rec.extend([ci.estimate.to_string(), ci.lo.to_string(), ci.hi.to_string()]),
                    Cell::Missing => rec.push(String::new()),
                }
                if ci_cols[i] && !matches!(c, Cell::Ci(..)) {
                    rec.extend([String::new(), String::new()]);
                }
            }
            w.write_record(&rec).map_err(err)?;
        }
        w.into_inner().map_err(|e| ReportError::io(path, e.into_error()))
    }

    /// Writes `<dir>/<name>.{md,csv,json}` atomically; returns the three paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let md = dir.join(format!("{}.md", self.name));
        let csv = dir.join(format!("{}.csv", self.name));
        let js = dir.join(format!("{}.json", self.name));
        write_atomic(&md, self.markdown().as_bytes()).map_err(|e| ReportError::io(&md, e))?;
        write_atomic(&csv, &self.csv_bytes(&csv)?).map_err(|e| ReportError::io(&csv, e))?;
        let mut j = serde_json::to_vec_pretty(&self.json()).map_err(|e| ReportError::parse(&js, None, e))?;
        j.push(b'\n');
        write_atomic(&js, &j).map_err(|e| ReportError::io(&js, e))?;
        Ok(vec![md, csv, js])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_all_three_formats() {
        let mut t = Table::new("t", "A table", &[("policy", "policy"), ("fp", "FP rate"), ("total", "total")]);
        let ci = Interval { estimate: 1.5, lo: 1.0, hi: 2.0, level: 0.95, n: 3 };
        t.push(vec![Cell::text("a|b"), Cell::Num(-0.0001, 3), Cell::Ci(ci, 2)]);
        t.push(vec![Cell::text("c"), Cell::Missing, Cell::Num(2.0, 2)]);
        t.notes.push("note".into());
        let md = t.markdown();
        assert!(md.contains("| a\\|b | 0.000 | 1.50 [1.00, 2.00] |"), "{md}");
        assert!(md.contains("| c | – | 2.00 |"));
        assert!(md.contains("_note_"));
        let d = tempfile::tempdir().unwrap();
        t.write(d.path()).unwrap();
        let csv = std::fs::read_to_string(d.path().join("t.csv")).unwrap();
        assert_eq!(csv.lines().next().unwrap(), "policy,fp,total,total_lo,total_hi");
        assert_eq!(csv.lines().nth(2).unwrap(), "c,,2,,");
        let j: Value = serde_json::from_str(&std::fs::read_to_string(d.path().join("t.json")).unwrap()).unwrap();
        assert_eq!(j["rows"][0]["total"]["hi"], 2.0);
        assert_eq!(j["rows"][1]["fp"], Value::Null);
    }
}
