//! Hugging Face tokenizer.json loading and the Qwen3 chat template, rendered exactly as transformers does.
