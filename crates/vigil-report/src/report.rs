//! Orchestration: read the runs, group them into variants, build every section, write files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use vigil_core::write_atomic;

use crate::load::{RunData, discover};
use crate::plot::Fig;
use crate::table::{Cell, Table};
use crate::{ReportError, calib, compare, curves, envs, paper};

/// What `exp report` was asked for.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Output folder (`tables/`, `figures/`, `report.md`).
    pub out: PathBuf,
    /// A `paper/` folder to refresh (`<paper>/<name>/` plus the include blocks of its `.md` files).
    pub paper: Option<PathBuf>,
    /// Report name (default: the first input folder's name).
    pub name: Option<String>,
    /// Seed of every bootstrap and Monte Carlo draw.
    pub seed: u64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// Calibration bins.
    pub bins: usize,
    /// The sweep axis whose values are replicates (default `seed`).
    pub seed_key: String,
    /// Reference variant of the paired tests (default: the first variant).
    pub reference: Option<String>,
}

impl ReportOptions {
    /// Defaults: 10,000 resamples, 10 bins, seed 0, replicates over `seed`.
    pub fn new(out: PathBuf) -> Self {
        Self {
            out,
            paper: None,
            name: None,
            seed: 0,
            resamples: 10_000,
            bins: 10,
            seed_key: "seed".into(),
            reference: None,
        }
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct ReportOutput {
    /// Report name.
    pub name: String,
    /// Every table, as written.
    pub tables: Vec<Table>,
    /// Every file written under `out` (and under the paper folder).
    pub files: Vec<PathBuf>,
    /// The Markdown report.
    pub markdown: String,
}

/// Runs that differ only in the replicate axis.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Label: sweep assignments without the seed axis, or the run name.
    pub label: String,
    /// Its runs, by seed.
    pub runs: Vec<RunData>,
}

fn group(runs: Vec<RunData>, seed_key: &str) -> Vec<Variant> {
    let sweeps: std::collections::BTreeSet<String> = runs
        .iter()
        .filter_map(|r| r.point.as_ref().map(|p| p.sweep.clone()))
        .collect();
    let mut out: Vec<Variant> = Vec::new();
    for r in runs {
        let mut label = r.variant(seed_key);
        // Runs of several sweeps: name the sweep too, so equal axis values do not merge.
        if let Some(p) = r
            .point
            .as_ref()
            .filter(|p| sweeps.len() > 1 && label != p.sweep)
        {
            label = format!("{} · {label}", p.sweep);
        }
        match out.iter_mut().find(|v| v.label == label) {
            Some(v) => v.runs.push(r),
            None => out.push(Variant {
                label,
                runs: vec![r],
            }),
        }
    }
    for v in &mut out {
        v.runs.sort_by_key(|r| r.seed());
    }
    out
}

/// A table or figure, in report order.
pub(crate) enum Item {
    Table(Table),
    Figure(String, Fig),
    Text(String),
}

/// Builds every table and figure for `inputs` (run or sweep folders) and writes them.
pub fn write_report(inputs: &[PathBuf], opts: &ReportOptions) -> Result<ReportOutput, ReportError> {
    if opts.bins == 0 {
        return Err(ReportError::Options("bins must be at least 1".into()));
    }
    let dirs = discover(inputs)?;
    let mut runs = Vec::new();
    for d in &dirs {
        let r = RunData::read(d)?;
        if r.policies.is_empty() {
            tracing::warn!(run = %d.display(), "no evaluation results yet; skipped");
            continue;
        }
        runs.push(r);
    }
    if runs.is_empty() {
        return Err(ReportError::NotARun(
            inputs.first().cloned().unwrap_or_default(),
        ));
    }
    let name = opts.name.clone().unwrap_or_else(|| {
        inputs
            .first()
            .and_then(|p| p.file_name())
            .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned())
    });
    let variants = group(runs, &opts.seed_key);
    if let Some(r) = &opts.reference {
        if !variants.iter().any(|v| &v.label == r) {
            let known: Vec<&str> = variants.iter().map(|v| v.label.as_str()).collect();
            return Err(ReportError::Options(format!(
                "reference variant `{r}` not found; variants: {}",
                known.join("; ")
            )));
        }
    }
    let mut items = vec![
        Item::Text(format!(
            "## Runs\n\n{} runs in {} variants.",
            variants.iter().map(|v| v.runs.len()).sum::<usize>(),
            variants.len()
        )),
        Item::Table(runs_table(&variants)),
    ];
    items.extend(compare::section(&variants, opts)?);
    items.extend(curves::section(&variants));
    items.extend(crate::roles::section(&variants));
    items.extend(calib::section(&variants, opts)?);
    items.extend(envs::section(&variants)?);

    let mut files = Vec::new();
    let mut tables = Vec::new();
    let mut md = format!(
        "# Report: {name}\n\nGenerated by `exp report` from {} run folder(s). Every number below is read from the runs' own output files.\n\n",
        dirs.len()
    );
    for it in items {
        match it {
            Item::Text(t) => {
                let _ = writeln!(md, "{t}\n");
            }
            Item::Table(t) => {
                files.extend(t.write(&opts.out.join("tables"))?);
                let _ = writeln!(md, "{}", t.markdown());
                tables.push(t);
            }
            Item::Figure(stem, f) => {
                files.extend(f.write(&opts.out.join("figures").join(&stem))?);
                let _ = writeln!(md, "![{stem}](figures/{stem}.png)\n");
            }
        }
    }
    let path = opts.out.join("report.md");
    write_atomic(&path, md.as_bytes()).map_err(|e| ReportError::io(&path, e))?;
    files.push(path);
    if let Some(p) = &opts.paper {
        files.extend(paper::refresh(p, &name, &opts.out)?);
    }
    Ok(ReportOutput {
        name,
        tables,
        files,
        markdown: md,
    })
}

/// Every run × policy: the raw numbers each other table aggregates.
fn runs_table(variants: &[Variant]) -> Table {
    let comps = component_names(variants);
    let mut t = Table::new(
        "runs",
        "Every run and policy (hold-out means)",
        &[
            ("variant", "variant"),
            ("seed", "seed"),
            ("run", "run"),
            ("policy", "policy"),
            ("episodes", "episodes"),
            ("total", "total reward"),
        ],
    );
    for c in &comps {
        t.column(format!("reward.{c}"), c.clone());
    }
    t.column("format_valid", "format valid");
    for v in variants {
        for r in &v.runs {
            for p in &r.policies {
                let o = &p.summary.overall;
                let mut row = vec![
                    Cell::text(&v.label),
                    Cell::Int(r.seed() as i64),
                    Cell::text(run_name(&r.dir)),
                    Cell::text(&p.policy),
                    Cell::Int(o.episodes as i64),
                    Cell::num(Some(o.total.mean)),
                ];
                for c in &comps {
                    row.push(Cell::num(
                        o.rewards
                            .iter()
                            .find(|x| &x.name == c)
                            .map(|x| x.stats.mean),
                    ));
                }
                row.push(Cell::num(Some(o.format_valid_rate)));
                t.push(row);
            }
        }
    }
    t
}

/// Folder name of a run.
pub(crate) fn run_name(dir: &Path) -> String {
    dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Reward component names over all runs, in first-seen order.
pub(crate) fn component_names(variants: &[Variant]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in variants {
        for r in &v.runs {
            for p in &r.policies {
                for c in &p.summary.overall.rewards {
                    if !out.contains(&c.name) {
                        out.push(c.name.clone());
                    }
                }
            }
        }
    }
    out
}
