#!/usr/bin/env python3
"""Side-by-side speed of the burn Qwen3 (`exp bench model`) and PyTorch/transformers.

Both engines run on the same Hugging Face folders, the same shapes and the same machine in one
session; what is reported is the ratio (Vigil / PyTorch's best thread count), since absolute
times on a shared machine are noise.

  tools/bench_model.py make  --out DIR              # three random checkpoints (transformers)
  tools/bench_model.py torch --model DIR [...]      # PyTorch numbers as JSON (one thread count)
  tools/bench_model.py table --models DIR --exp target/release/exp [--out FILE.md]

PyTorch is measured at its fastest: a hand-written KV-cached greedy loop under
`torch.inference_mode()` (no `generate()` bookkeeping), prefill computing only the last
position's logits, training with `torch.optim.AdamW` (PEFT LoRA r16 on q/k/v/o, or every weight).
Setup: `pip install torch transformers peft safetensors` (the PyPI wheels run on the CPU).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

MODELS = {
    # name: (vocab, hidden, layers, heads, kv_heads, head_dim, intermediate, tied embeddings)
    "small": (8192, 256, 4, 8, 4, 32, 768, True),
    "medium": (32768, 1024, 8, 16, 8, 64, 3072, True),
    # Qwen3's real vocabulary, an untied LM head, 4 query heads per kv head, head_dim > hidden / heads.
    "untied": (151936, 512, 4, 8, 2, 128, 1536, False),
}


def make(a):
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    for name, (v, h, l, nh, kv, hd, inter, tied) in MODELS.items():
        torch.manual_seed(0)
        cfg = Qwen3Config(vocab_size=v, hidden_size=h, num_hidden_layers=l, num_attention_heads=nh,
                          num_key_value_heads=kv, head_dim=hd, intermediate_size=inter,
                          tie_word_embeddings=tied, max_position_embeddings=4096,
                          torch_dtype="float32", eos_token_id=v - 1, bos_token_id=v - 2)
        model = Qwen3ForCausalLM(cfg).float().eval()
        out = os.path.join(a.out, name)
        model.save_pretrained(out, safe_serialization=True)
        print(json.dumps({"model": name, "out": out, "params": sum(p.numel() for p in model.parameters())}))


def tokens(n, vocab, salt):
    # The same Weyl sequence as `vigil_policy::bench::bench_tokens`.
    return [(((i + salt) * 2654435761) >> 7) % vocab for i in range(n)]


def best_of(iters, f):
    f()
    return min(f() for _ in range(max(1, iters)))


def torch_bench(a):
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    ids = torch.tensor([tokens(a.prompt, vocab, i * 7919) for i in range(a.batch)])

    def prefill():
        out = model(ids, use_cache=True, logits_to_keep=1)
        return out.past_key_values, out.logits[:, -1].argmax(-1)

    def time_prefill():
        t = time.perf_counter()
        prefill()
        return time.perf_counter() - t

    def time_decode():
        past, nxt = prefill()
        t = time.perf_counter()
        for _ in range(a.new):
            out = model(nxt[:, None], past_key_values=past, use_cache=True)
            past, nxt = out.past_key_values, out.logits[:, -1].argmax(-1)
        nxt.tolist()
        return time.perf_counter() - t

    with torch.inference_mode():
        prefill_s = best_of(a.iters, time_prefill)
        decode_s = best_of(a.iters, time_decode)
    train_s = None
    if a.train:
        train_s = torch_train(a, model, vocab)
    print(json.dumps({
        "engine": "pytorch", "torch": torch.__version__, "threads": a.threads, "batch": a.batch,
        "prompt": a.prompt, "new": a.new, "train": a.train,
        "prefill_tok_s": a.batch * a.prompt / prefill_s, "decode_tok_s": a.batch * a.new / decode_s,
        "train_step_s": train_s,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


def torch_train(a, model, vocab):
    import torch

    model.train()
    if a.train == "lora":
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0,
                                                 target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5)
    ids = torch.tensor([tokens(a.prompt, vocab, i * 104729) for i in range(a.batch)])

    def step():
        t = time.perf_counter()
        logits = model(ids).logits[:, :-1]
        lp = torch.log_softmax(logits.float(), -1).gather(-1, ids[:, 1:, None])
        loss = -lp.mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return time.perf_counter() - t

    return best_of(a.iters, step)


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def table(a):
    rows = []
    shapes = [("decode b1", 1, None), ("decode b8", 8, None), ("lora", 1, "lora"), ("full", 1, "full")]
    results = {}
    for name in a.names.split(","):
        folder = os.path.join(a.models, name)
        for label, batch, train in shapes:
            if train == "full" and name != "small":
                continue
            common = ["--batch", str(batch), "--prompt", str(a.prompt), "--new", str(a.new), "--iters", str(a.iters)]
            if train:
                common += ["--train", train]
            torch_runs = {}
            for th in (1, 2):
                torch_runs[th] = run_json([sys.executable, __file__, "torch", "--model", folder, "--threads", str(th)] + common)
            vigil = run_json([a.exp, "bench", "model", "--model", folder, "--threads", str(a.threads)] + common)
            results[f"{name}/{label}"] = {"pytorch": torch_runs, "vigil": vigil}
            rows.append((name, label, torch_runs, vigil, train))
            print(f"{name} {label}: done", file=sys.stderr)
    lines = [f"CPU: {cpu_model()}; Vigil at {a.threads} threads; PyTorch's best of 1 and 2 threads; "
             f"prompt {a.prompt}, {a.new} new tokens, f32, best of {a.iters} after a warm-up.", "",
             "| model | measure | PyTorch 1t | PyTorch 2t | Vigil | ratio (Vigil / PyTorch best) | decode bound (bandwidth) | Vigil / bound |",
             "|---|---|---|---|---|---|---|---|"]
    for name, label, t, v, train in rows:
        if train:
            p1, p2, vv = t[1]["train_step_s"], t[2]["train_step_s"], v["train_step_s"]
            ratio = min(p1, p2) / vv
            lines.append(f"| {name} | {train} step (s) | {p1:.4f} | {p2:.4f} | {vv:.4f} | **{ratio:.2f}×** | | |")
            continue
        for key, unit in (("prefill_tok_s", "prefill tok/s"), ("decode_tok_s", "decode tok/s")):
            if key == "prefill_tok_s" and label != "decode b1":
                continue
            p1, p2, vv = t[1][key], t[2][key], v[key]
            ratio = vv / max(p1, p2)
            bound = v["decode_bound_tok_s"] if key == "decode_tok_s" else None
            extra = f"{bound:.1f} ({v['read_bandwidth_gb_s']:.1f} GB/s) | {vv / bound:.2f}" if bound else " | "
            shown = unit if key == "prefill_tok_s" else f"{unit} (batch {v['batch']})"
            lines.append(f"| {name} | {shown} | {p1:.1f} | {p2:.1f} | {vv:.1f} | **{ratio:.2f}×** | {extra} |")
        if label == "decode b1":
            rss = v["peak_rss_over_weights_kv"]
            lines.append(f"| {name} | peak RSS / (weights + KV) | | | {rss:.2f} | | | |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
            json.dump(results, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", required=True)
    t = sub.add_parser("torch")
    t.add_argument("--model", required=True)
    t.add_argument("--threads", type=int, default=1)
    tb = sub.add_parser("table")
    tb.add_argument("--models", required=True, help="folder written by `make`")
    tb.add_argument("--names", default="small,medium,untied")
    tb.add_argument("--exp", default="target/release/exp")
    tb.add_argument("--threads", type=int, default=os.cpu_count())
    tb.add_argument("--out")
    for p in (t, tb):
        p.add_argument("--batch", type=int, default=1)
        p.add_argument("--prompt", type=int, default=128)
        p.add_argument("--new", type=int, default=64)
        p.add_argument("--iters", type=int, default=3)
        p.add_argument("--train", choices=["lora", "full"])
    a = ap.parse_args()
    {"make": make, "torch": torch_bench, "table": table}[a.cmd](a)


if __name__ == "__main__":
    main()
