#!/usr/bin/env python3
"""Reference outputs for Vigil's burn Qwen3, computed with PyTorch + transformers + peft.

Subcommands
-----------
make-case  Build one random tiny Qwen3 checkpoint (HF folder) with a PEFT LoRA adapter whose
           lora_B is non-zero, and write reference.json next to it: logits (all positions),
           teacher-forced log-probs, greedy continuations (16 tokens) with and without the
           adapter, and autograd gradients of  loss = -A * mean_t log_softmax(logits[t])[tok[t+1]]
           w.r.t. every LoRA tensor (PEFT names).
make-all   The committed test cases (crates/vigil-policy/tests/data/*).
bench      CPU forward tokens/s of a checkpoint folder (the PyTorch side of the criterion bench).

Everything is seeded; nothing is downloaded.
"""
import argparse
import json
import os
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import Qwen3Config, Qwen3ForCausalLM


def build_model(a, seed):
    cfg = Qwen3Config(
        vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.intermediate,
        num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
        head_dim=a.head_dim, tie_word_embeddings=a.tied, rope_theta=a.rope_theta,
        rms_norm_eps=a.eps, attention_bias=a.attention_bias, max_position_embeddings=512,
        use_sliding_window=False, bos_token_id=None, eos_token_id=None, pad_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(cfg).float().eval()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(a.std * torch.randn(p.shape, generator=g))
    if a.tied:
        model.tie_weights()
    return model


def lora_config(a):
    targets = a.targets
    if targets.startswith("re:"):
        targets = targets[3:]
    else:
        targets = targets.split(",")
    rank_pattern = json.loads(a.rank_pattern) if a.rank_pattern else {}
    return LoraConfig(r=a.r, lora_alpha=a.alpha, target_modules=targets, lora_dropout=0.0,
                      bias="none", use_rslora=a.rslora, rank_pattern=rank_pattern,
                      task_type="CAUSAL_LM")


def token_logprobs(logits, tokens):
    lp = torch.log_softmax(logits.float(), dim=-1)
    return lp[0, :-1].gather(1, tokens[0, 1:, None])[:, 0]


def greedy(model, prompt, n):
    """Greedy continuation by explicit full recomputation (independent of generate())."""
    seq = prompt.clone()
    out = []
    with torch.no_grad():
        for _ in range(n):
            nxt = int(model(seq).logits[0, -1].argmax())
            out.append(nxt)
            seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
    return out


def make_case(a):
    os.makedirs(a.out, exist_ok=True)
    base = build_model(a, a.seed)
    dtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[a.file_dtype]
    base.to(dtype).save_pretrained(a.out, safe_serialization=True)
    # Reference math in f32 on exactly what was saved, reloaded as a user would. (Converting the
    # in-memory model back with .float() would keep a bf16-rounded RoPE inv_freq buffer.)
    base = Qwen3ForCausalLM.from_pretrained(a.out, dtype=torch.float32).eval()

    g = torch.Generator().manual_seed(a.seed + 2)
    tokens = torch.randint(0, a.vocab, (1, a.seq_len), generator=g)
    prompt = tokens[:, : a.prompt_len]
    with torch.no_grad():
        base_logits = base(tokens).logits
    ref = {
        "tokens": tokens[0].tolist(),
        "prompt": prompt[0].tolist(),
        "base": {
            "logits": base_logits[0].tolist(),
            "logprobs": token_logprobs(base_logits, tokens).tolist(),
            "greedy": greedy(base, prompt, a.greedy_tokens),
        },
    }

    peft_model = get_peft_model(base, lora_config(a))
    g2 = torch.Generator().manual_seed(a.seed + 3)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_A" in name or "lora_B" in name:
                p.copy_(a.lora_std * torch.randn(p.shape, generator=g2))
    adapter_dir = os.path.join(a.out, "adapter")
    peft_model.save_pretrained(adapter_dir, safe_serialization=True)
    # PEFT's generated model card is boilerplate; keep the committed fixtures small.
    readme = os.path.join(adapter_dir, "README.md")
    if os.path.exists(readme):
        os.remove(readme)
    peft_model.eval()
    logits = peft_model(tokens).logits
    lp = token_logprobs(logits, tokens)
    loss = -a.advantage * lp.mean()
    peft_model.zero_grad()
    loss.backward()
    grads = {}
    for name, p in peft_model.named_parameters():
        if p.requires_grad:
            grads[name.replace(".default", "")] = p.grad.tolist()
    ref["adapter"] = {
        "logits": logits[0].tolist(),
        "logprobs": lp.tolist(),
        "greedy": greedy(peft_model, prompt, a.greedy_tokens),
        "advantage": a.advantage,
        "loss": float(loss),
        "grads": grads,
    }
    with open(os.path.join(a.out, "reference.json"), "w") as f:
        json.dump(ref, f)
    print(f"wrote {a.out}")


CASES = {
    # head_dim != hidden/heads, GQA 2:1, tied, f32 file, regular targets.
    "tied": ["--vocab", "96", "--hidden", "32", "--intermediate", "48", "--layers", "2",
             "--heads", "4", "--kv-heads", "2", "--head-dim", "16", "--tied",
             "--rope-theta", "10000", "--eps", "1e-6", "--file-dtype", "f32",
             "--targets", "q_proj,v_proj,down_proj", "--r", "4", "--alpha", "8", "--seed", "11"],
    # untied head, GQA 3:1, bf16 file, regex targets incl. lm_head, rsLoRA and a rank pattern.
    "untied": ["--vocab", "80", "--hidden", "24", "--intermediate", "40", "--layers", "3",
               "--heads", "3", "--kv-heads", "1", "--head-dim", "10",
               "--rope-theta", "1000000", "--eps", "1e-5", "--file-dtype", "bf16",
               "--targets", r"re:.*\.(k_proj|o_proj|gate_proj|up_proj)|lm_head", "--r", "3",
               "--alpha", "5", "--rslora", "--rank-pattern", '{"layers.1.mlp.up_proj": 2}',
               "--seed", "23"],
}


def add_case_args(p):
    p.add_argument("--out", required=True)
    p.add_argument("--vocab", type=int, default=96)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--intermediate", type=int, default=48)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--head-dim", type=int, default=16)
    p.add_argument("--tied", action="store_true")
    p.add_argument("--attention-bias", action="store_true")
    p.add_argument("--rope-theta", type=float, default=1e6)
    p.add_argument("--eps", type=float, default=1e-6)
    p.add_argument("--std", type=float, default=0.1)
    p.add_argument("--file-dtype", choices=["f32", "bf16", "f16"], default="f32")
    p.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj")
    p.add_argument("--r", type=int, default=4)
    p.add_argument("--alpha", type=float, default=8)
    p.add_argument("--rslora", action="store_true")
    p.add_argument("--rank-pattern", default="")
    p.add_argument("--lora-std", type=float, default=0.1)
    p.add_argument("--advantage", type=float, default=1.5)
    p.add_argument("--seq-len", type=int, default=12)
    p.add_argument("--prompt-len", type=int, default=5)
    p.add_argument("--greedy-tokens", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)


def bench(a):
    torch.set_num_threads(a.threads)
    model = Qwen3ForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, vocab, (a.batch, a.seq_len), generator=g)
    with torch.no_grad():
        for _ in range(3):
            model(tokens)
        times = []
        for _ in range(a.iters):
            t0 = time.perf_counter()
            model(tokens)
            times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    print(json.dumps({"model": a.model, "batch": a.batch, "seq_len": a.seq_len, "threads": a.threads,
                      "median_s": med, "tokens_per_s": a.batch * a.seq_len / med,
                      "torch": torch.__version__}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    add_case_args(sub.add_parser("make-case"))
    m = sub.add_parser("make-all")
    m.add_argument("--out", default="crates/vigil-policy/tests/data")
    b = sub.add_parser("bench")
    b.add_argument("--model", required=True)
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--seq-len", type=int, default=128)
    b.add_argument("--iters", type=int, default=20)
    b.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if a.cmd == "make-case":
        make_case(a)
    elif a.cmd == "make-all":
        for name, args in CASES.items():
            p = argparse.ArgumentParser()
            add_case_args(p)
            make_case(p.parse_args(args + ["--out", os.path.join(a.out, name)]))
    else:
        bench(a)


if __name__ == "__main__":
    main()
