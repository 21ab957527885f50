//! OpenSOC throughput, single thread.
//!
//! Run with `cargo bench -p vigil-benches --bench opensoc`. Target (issue 6): ≥ 200k episodes/s
//! for generate + verify + score on `stage3_mixed`. Every iteration runs a batch of
//! episodes with fresh per-episode RNGs (`derive_seed(seed, stage, index)`, as the training
//! split does), labels cycling through the five actions; elements = episodes. Batches are large
//! (10,000 episodes, 2,000 full episodes) because thread CPU time advances in scheduler ticks.
//!
//! - `generate_verify_score/<stage>`: generate an incident, run the verifier, score the oracle's
//!   grade with the five rubric components (the allocation-free scoring path);
//! - `full_episode/<stage>`: also build the alert, render the prompt (system + user message),
//!   write and parse the oracle's text answer and build the core `Outcome` (what the trainer's
//!   rollout loop pays per episode, minus the policy);
//! - `verify/<stage>`: the verifier alone on pre-generated incidents (labels/s).
//!
//! Time is the benchmarking thread's CPU time (`/proc/thread-self/schedstat`): the claim is
//! about one core, and on a shared, loaded machine wall time mostly measures other processes.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_benches::ThreadCpu;
use vigil_core::{Episode, derive_seed, rng_from_seed};
use vigil_env_opensoc::render::system_prompt;
use vigil_env_opensoc::rubric::{Citation, TriageGrade, score};
use vigil_env_opensoc::{DefenderEpisode, Stage, TriageAction, compute_ground_truth, generate};

const BATCH: u64 = 10_000;
const FULL_BATCH: u64 = 2_000;
const SEED: u64 = 7;

fn generate_verify_score(stage: Stage, start: u64) -> f64 {
    let mut acc = 0.0;
    for i in start..start + BATCH {
        let mut rng = rng_from_seed(derive_seed(SEED, stage.as_str(), i));
        let g = generate(stage, TriageAction::ALL[(i % 5) as usize], &mut rng);
        let v = compute_ground_truth(&g.params);
        let grade = TriageGrade {
            truth: v.action,
            predicted: Some(v.action),
            citation: Citation::Correct,
            format_valid: true,
        };
        acc += score(&grade).iter().sum::<f64>();
    }
    acc
}

fn full_episode(stage: Stage, start: u64, system: &Arc<str>) -> f64 {
    let mut acc = 0.0;
    for i in start..start + FULL_BATCH {
        let mut rng = rng_from_seed(derive_seed(SEED, stage.as_str(), i));
        let g = generate(stage, TriageAction::ALL[(i % 5) as usize], &mut rng);
        let mut ep = DefenderEpisode::new(g.params, format!("SOC-{i:06}"), system.clone());
        let prompt = ep.prompt();
        acc += prompt[1].content.len() as f64;
        let answer = ep.oracle_answer();
        if let Ok(vigil_core::Step::Done(o)) = ep.step(&answer) {
            acc += o.rewards.sum();
        }
    }
    acc
}

fn opensoc(c: &mut Criterion<ThreadCpu>) {
    let system: Arc<str> = system_prompt(true).into();
    let mut grp = c.benchmark_group("opensoc");
    grp.sample_size(30);
    grp.throughput(Throughput::Elements(BATCH));
    for stage in Stage::ALL {
        let mut k = 0u64;
        grp.bench_function(format!("generate_verify_score/{}", stage.as_str()), |b| {
            b.iter(|| {
                k += BATCH;
                black_box(generate_verify_score(stage, k))
            })
        });
    }
    grp.throughput(Throughput::Elements(FULL_BATCH));
    for stage in [
        Stage::Stage1Basic,
        Stage::Stage3Mixed,
        Stage::Stage4Adversarial,
    ] {
        let mut k = 0u64;
        grp.bench_function(format!("full_episode/{}", stage.as_str()), |b| {
            b.iter(|| {
                k += FULL_BATCH;
                black_box(full_episode(stage, k, &system))
            })
        });
    }
    grp.throughput(Throughput::Elements(BATCH));
    for stage in [Stage::Stage3Mixed, Stage::Stage4Adversarial] {
        let incidents: Vec<_> = (0..BATCH)
            .map(|i| {
                generate(
                    stage,
                    TriageAction::ALL[(i % 5) as usize],
                    &mut rng_from_seed(derive_seed(SEED, stage.as_str(), i)),
                )
                .params
            })
            .collect();
        grp.bench_function(format!("verify/{}", stage.as_str()), |b| {
            b.iter(|| {
                incidents
                    .iter()
                    .map(|p| compute_ground_truth(black_box(p)).triggers.len())
                    .sum::<usize>()
            })
        });
    }
    grp.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = opensoc
}
criterion_main!(benches);
