//! The results table `exp sweep` writes when it ends (and `exp sweep --collect` rebuilds):
//! one row per point with its status, its axis values and the main policy's hold-out numbers.

use std::path::Path;

use crate::ReportError;
use crate::load::RunData;
use crate::point::{PointRecord, PointStatus};
use crate::table::{Cell, Table};

/// Builds the table from the point folders `sweep/<label>` of `labels`.
pub fn results(sweep: &Path, labels: &[String]) -> Result<Table, ReportError> {
    let mut records = Vec::new();
    for l in labels {
        let dir = sweep.join(l);
        let rec = PointRecord::read(&dir)?;
        let run = match &rec {
            Some(r) if r.status == PointStatus::Done => Some(RunData::read(&dir)?),
            _ => None,
        };
        records.push((l.clone(), rec, run));
    }
    let mut keys: Vec<String> = Vec::new();
    let mut comps: Vec<String> = Vec::new();
    for (_, rec, run) in &records {
        for a in rec.iter().flat_map(|r| r.assignments.iter()) {
            if !keys.contains(&a.key) {
                keys.push(a.key.clone());
            }
        }
        for c in run.iter().filter_map(RunData::main_policy).flat_map(|p| p.summary.overall.rewards.iter()) {
            if !comps.contains(&c.name) {
                comps.push(c.name.clone());
            }
        }
    }
    let mut t = Table::new("results", "Sweep results: main policy on the hold-out", &[("point", "point"), ("status", "status")]);
    for k in &keys {
        t.column(format!("set.{k}"), k.clone());
    }
    for (k, h) in [("policy", "policy"), ("episodes", "episodes"), ("total", "total reward")] {
        t.column(k, h);
    }
    for c in &comps {
        t.column(format!("reward.{c}"), c.clone());
    }
    t.column("format_valid", "format valid");
    t.column("error", "error");
    for (label, rec, run) in &records {
        let status = rec.as_ref().map_or("pending", |r| match r.status {
            PointStatus::Pending => "pending",
            PointStatus::Running => "running",
            PointStatus::Done => "done",
            PointStatus::Failed => "failed",
        });
        let mut row = vec![Cell::text(label), Cell::text(status)];
        for k in &keys {
            let a = rec.as_ref().and_then(|r| r.assignments.iter().find(|a| &a.key == k));
            row.push(a.map_or(Cell::Missing, |a| Cell::text(&a.display)));
        }
        match run.as_ref().and_then(RunData::main_policy) {
            Some(p) => {
                let o = &p.summary.overall;
                row.extend([Cell::text(&p.policy), Cell::Int(o.episodes as i64), Cell::num(Some(o.total.mean))]);
                for c in &comps {
                    row.push(Cell::num(o.rewards.iter().find(|x| &x.name == c).map(|x| x.stats.mean)));
                }
                row.push(Cell::num(Some(o.format_valid_rate)));
            }
            None => {
                row.extend([Cell::Missing, Cell::Missing, Cell::Missing]);
                row.extend(comps.iter().map(|_| Cell::Missing));
                row.push(Cell::Missing);
            }
        }
        row.push(rec.as_ref().and_then(|r| r.error.as_deref()).map_or(Cell::Missing, |e| Cell::text(first_line(e))));
        t.push(row);
    }
    Ok(t)
}

fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or("");
    if l.chars().count() > 160 { format!("{}…", l.chars().take(160).collect::<String>()) } else { l.to_string() }
}
