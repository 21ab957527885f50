//! SFT warm-start and GRPO/GDPO training with LoRA through burn autodiff.
