//! `exp sweep`: ablation grids over any config key. Each point is a normal run folder under the
//! sweep folder, named by its point and identified by the hash of its resolved config, so a
//! re-run skips finished points and resumes interrupted ones.

pub(crate) mod config;
pub(crate) mod expand;
pub(crate) mod plan;
pub(crate) mod runner;
pub(crate) mod slurm;

pub(crate) use config::SweepConfig;
