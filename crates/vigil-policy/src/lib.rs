//! Qwen3 in burn: HF checkpoints, tokenizer and chat template, KV-cached sampling, log-probs, PEFT LoRA.
