//! OpenSec environment throughput on the peer's 220 manifest seeds, single thread.
//!
//! Run with `cargo bench -p vigil-benches --bench opensec` (needs the peer's seeds in
//! `../shared/peer-data/opensec` beside the repository, or `VIGIL_PEER_DATA=DIR` with
//! `DIR/opensec/seeds/manifest.json`; without them it prints SKIPPED and measures nothing).
//! Reference: the peer's Python environment runs 226 resets/s and 620–770 steps/s on one core
//! (SQLite on tmpfs); the target is ≥100× on steps.
//!
//! - `reset`: start an episode of every seed (elements = episodes);
//! - `steps/<baseline>`: replay that baseline's recorded answers into fresh episodes; episode
//!   creation is outside the timing (elements = steps), like the peer's step-only rate;
//! - `episodes/<baseline>`: whole episodes with the scripted policy in the loop, resets included
//!   (elements = episodes).
//!
//! Time is the CPU time of the benchmarking thread (`/proc/thread-self/schedstat`), not wall
//! time: on a shared, loaded machine wall time mostly measures the other processes, while the
//! claim is about one core's throughput.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use vigil_benches::ThreadCpu;
use vigil_core::{DriverLimits, Environment, Episode, Role, Split, TaskId, run_episodes};
use vigil_env_opensec::{
    Baseline, OpenSecConfig, OpenSecEnv, OpenSecEpisode, ScoringMode, baseline_policy,
};

/// The peer's manifest (`$VIGIL_PEER_DATA/opensec` or `../shared/peer-data/opensec`).
fn peer_manifest() -> PathBuf {
    let root = std::env::var_os("VIGIL_PEER_DATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/peer-data")
        });
    root.join("opensec/seeds/manifest.json")
}

fn env(mode: ScoringMode) -> Arc<OpenSecEnv> {
    let seeds = peer_manifest();
    Arc::new(
        OpenSecEnv::new(&OpenSecConfig {
            seeds,
            scoring: mode,
            ..OpenSecConfig::default()
        })
        .expect("peer seeds"),
    )
}

fn tasks(env: &OpenSecEnv) -> Vec<TaskId> {
    let mut t = env.tasks(Split::Train, None).expect("tasks");
    t.extend(env.tasks(Split::Eval, None).expect("tasks"));
    t
}

/// Every task with the answers `baseline` gave in it.
fn scripts(env: &Arc<OpenSecEnv>, baseline: Baseline) -> Vec<(TaskId, Vec<String>)> {
    let jobs: Vec<(TaskId, u64)> = tasks(env).into_iter().map(|t| (t, 1)).collect();
    let mut policy = baseline_policy(Arc::clone(env), baseline, 1);
    let recs = run_episodes(
        env.as_ref(),
        policy.as_mut(),
        &jobs,
        DriverLimits::default(),
        |_| {},
    )
    .expect("episodes");
    recs.into_iter()
        .map(|r| {
            (
                r.task,
                r.transcript
                    .into_iter()
                    .filter(|m| m.role == Role::Assistant)
                    .map(|m| m.content)
                    .collect(),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion<ThreadCpu>) {
    if !peer_manifest().is_file() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "\n*** SKIPPED: opensec bench: the peer's seeds are not at {} (see README \"Peer data\") ***\n",
                peer_manifest().display()
            );
        }
        return;
    }
    for mode in [ScoringMode::Compat, ScoringMode::Hardened] {
        let env = env(mode);
        let all = tasks(&env);
        let mode_name = format!("{mode:?}").to_lowercase();
        let mut g = c.benchmark_group(format!("opensec_{mode_name}"));
        g.throughput(Throughput::Elements(all.len() as u64));
        g.bench_function("reset", |b| {
            b.iter(|| {
                for t in &all {
                    black_box(env.start_episode(t).expect("start"));
                }
            })
        });
        for baseline in [
            Baseline::Oracle,
            Baseline::EvidenceHeuristic,
            Baseline::ContainEverythingSeen,
        ] {
            let script = scripts(&env, baseline);
            let steps: usize = script.iter().map(|(_, a)| a.len()).sum();
            g.throughput(Throughput::Elements(steps as u64));
            g.bench_function(format!("steps/{}", baseline.as_str()), |b| {
                b.iter_batched(
                    || {
                        script
                            .iter()
                            .map(|(t, _)| env.start_episode(t).expect("start"))
                            .collect::<Vec<OpenSecEpisode>>()
                    },
                    |mut eps| {
                        for (ep, (_, answers)) in eps.iter_mut().zip(&script) {
                            for a in answers {
                                black_box(ep.step(a).expect("step"));
                            }
                        }
                        eps // dropped outside the timing, like the setup
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        g.throughput(Throughput::Elements(all.len() as u64));
        let jobs: Vec<(TaskId, u64)> = all.iter().map(|t| (t.clone(), 1)).collect();
        for baseline in [
            Baseline::Null,
            Baseline::Oracle,
            Baseline::EvidenceHeuristic,
        ] {
            g.bench_function(format!("episodes/{}", baseline.as_str()), |b| {
                let mut policy = baseline_policy(Arc::clone(&env), baseline, 1);
                b.iter(|| {
                    run_episodes(
                        env.as_ref(),
                        policy.as_mut(),
                        &jobs,
                        DriverLimits::default(),
                        |_| {},
                    )
                    .expect("episodes")
                })
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu).sample_size(10);
    targets = bench
}
criterion_main!(benches);
