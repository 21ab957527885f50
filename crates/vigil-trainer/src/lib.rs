//! SFT warm-start and GRPO/GDPO training with LoRA through burn autodiff.

mod config;

pub use config::{TrainerConfig, TrainerConfigError};
