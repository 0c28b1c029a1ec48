"""The memory-fit model (advisor.predictor.memory) against published peak-memory figures of real training runs.

Each point is a published measurement from Hugging Face's documentation or benchmarks: a model, a batch, a
sequence length, a precision, an optimizer and a GPU, with the peak memory the run took. The model is rebuilt
here in plain PyTorch with the published architecture (layer sizes, attention as that code computed it), the
project's own shape-level analysis traces one training step of it on fake tensors (as ``advisor profile``
does: weights, gradients, optimizer state and the tensors autograd saves), and
``advisor.predictor.memory.memory_from_analysis`` predicts the step's peak on that GPU. No figure of the
memory model is fitted to these points.

Two kinds of published figure, compared to the matching part of the prediction:

* ``device``: what ``nvidia-smi`` showed (the CUDA context and kernels, and what PyTorch's caching allocator
  reserved): compared to the prediction's whole peak (CUDA context + 1.10 x everything else).
* ``allocated``: ``torch.cuda.max_memory_allocated()`` (tensors only): compared to the peak less the CUDA
  context (the 10% margin stays: it stands for workspaces and transient buffers, which are allocated).

    python bench/memory_fit.py           # markdown table + summary (about a minute: it traces a 2.85B model)
    python bench/memory_fit.py --json    # the rows as JSON

Sources (all retrieved 2026-11-29):

* HF-PERF: Hugging Face Transformers docs, "Performance and Scalability: How To Fit a Bigger Model and Train
  It Faster" (2022), github.com/huggingface/notebooks transformers_doc/en/performance.ipynb, also at
  huggingface.co/docs/transformers/perf_train_gpu_one: bert-large-uncased sequence classification, 512
  tokens, Trainer defaults (AdamW, fp32), one V100-SXM2-16GB, "GPU memory occupied" from NVML (MiB). The
  page measures 1,343 MiB for the CUDA context and kernels alone.
* OPTIMUM: Hugging Face optimum-benchmark results, huggingface.co/datasets/optimum-benchmark/cuda (and /rocm)
  ``cuda_training_transformers_text-generation_openai-community/gpt2``: Trainer, batch 2, sequence 16,
  5 steps, PyTorch 2.3, ``max_allocated`` 2506.73664 MB (1 MB = 10^6 bytes).
* PEFT: Hugging Face PEFT README, "Use Cases" table (github.com/huggingface/peft): bigscience/T0_3B on
  ought/raft twitter_complaints, one A100 80GB: full fine-tuning 47.14 GB GPU, LoRA 14.4 GB GPU. The
  measuring script (examples/conditional_generation/peft_lora_seq2seq_accelerate_ds_zero3_offload.py) takes
  ``max_memory_allocated`` in MiB with batch 8 and AdamW; the table's "GB" are read as GiB (MiB / 1024).
  Inputs are tweets padded to the longest of the batch: 64 tokens assumed (the targets are 3-4 tokens); at
  2.85B parameters the activations of 8 x 64 tokens are under 2% of the total, so the choice barely matters.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from advisor.predictor.memory import DEFAULT_CUDA_CONTEXT_GIB, memory_from_analysis  # noqa: E402
from advisor.probe.analysis import analyze  # noqa: E402
from advisor.workload import Workload  # noqa: E402

GIB = 2.0 ** 30
MIB = 2.0 ** 20


# --------------------------------------------------------------------------------------------- BERT


class BertLayer(nn.Module):
    """One HF BertLayer of 2022: eager attention (scores, softmax, dropout on the probabilities), GELU FFN."""

    def __init__(self, d: int, heads: int, ff: int, p: float = 0.1) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
        self.fc1, self.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.drop = nn.Dropout(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.heads

        def split(y):
            return y.view(b, t, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        probs = self.drop(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1))
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, d)
        x = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(x + self.drop(self.fc2(F.gelu(self.fc1(x)))))


class BertClassifier(nn.Module):
    """bert-large-uncased with the sequence-classification head (pooler + linear, 2 labels)."""

    def __init__(self, vocab=30522, d=1024, layers=24, heads=16, ff=4096, max_pos=512, labels=2) -> None:
        super().__init__()
        self.tok, self.pos, self.typ = nn.Embedding(vocab, d), nn.Embedding(max_pos, d), nn.Embedding(2, d)
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList(BertLayer(d, heads, ff) for _ in range(layers))
        self.pool, self.head = nn.Linear(d, d), nn.Linear(d, labels)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.ln(self.tok(ids) + self.pos(pos) + self.typ(torch.zeros_like(ids))))
        for layer in self.layers:
            x = layer(x)
        return self.head(self.drop(torch.tanh(self.pool(x[:, 0]))))


# --------------------------------------------------------------------------------------------- GPT-2


class Gpt2Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.heads
        q, k, v = (y.view(b, t, h, d // h).transpose(1, 2) for y in self.qkv(self.ln1(x)).split(d, dim=-1))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // h)
        mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        probs = self.drop(torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1))
        x = x + self.drop(self.proj((probs @ v).transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh")))


class Gpt2LM(nn.Module):
    """openai-community/gpt2 (124M): 12 layers of 768, eager attention, LM head tied to the embedding."""

    def __init__(self, vocab=50257, d=768, layers=12, heads=12, ctx=1024) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
        self.drop = nn.Dropout(0.1)
        self.blocks = nn.ModuleList(Gpt2Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.wte(ids) + self.wpe(torch.arange(ids.shape[1], device=ids.device)))
        for block in self.blocks:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        # labels = input_ids, shifted inside the model (HF's causal-LM loss)
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


# ------------------------------------------------------------------------------------ T5 v1.1 (T0_3B)


class RMSNorm(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)


class LoraLinear(nn.Module):
    """PEFT's LoRA on a frozen linear layer: W x + B(A(dropout(x))) * alpha / r."""

    def __init__(self, base: nn.Linear, r: int = 8, alpha: int = 32, p: float = 0.1) -> None:
        super().__init__()
        self.base = base
        self.a = nn.Linear(base.in_features, r, bias=False)
        self.b = nn.Linear(r, base.out_features, bias=False)
        self.drop, self.scale = nn.Dropout(p), alpha / r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.b(self.a(self.drop(x))) * self.scale


class T5Attention(nn.Module):
    def __init__(self, d: int, heads: int, kv: int, bias: bool) -> None:
        super().__init__()
        self.heads, self.kv = heads, kv
        self.q, self.k, self.v = (nn.Linear(d, heads * kv, bias=False) for _ in range(3))
        self.o = nn.Linear(heads * kv, d, bias=False)
        self.rel = nn.Embedding(32, heads) if bias else None
        self.drop = nn.Dropout(0.1)

    def forward(self, x, kv_in=None, position_bias=None, causal=False):
        b, t, _ = x.shape
        src = x if kv_in is None else kv_in
        s = src.shape[1]

        def split(y, n):
            return y.view(b, n, self.heads, self.kv).transpose(1, 2)

        scores = split(self.q(x), t) @ split(self.k(src), s).transpose(-1, -2)  # T5: no 1/sqrt(d) scaling
        if position_bias is None and self.rel is not None:
            rel = torch.arange(s, device=x.device)[None, :] - torch.arange(t, device=x.device)[:, None]
            buckets = _relative_buckets(rel, bidirectional=not causal)
            position_bias = self.rel(buckets).permute(2, 0, 1).unsqueeze(0)
            if causal:
                position_bias = position_bias.masked_fill(rel[None, None] > 0, float("-inf"))
        if position_bias is not None:
            scores = scores + position_bias
        probs = self.drop(torch.softmax(scores.float(), dim=-1).type_as(scores))
        out = self.o((probs @ split(self.v(src), s)).transpose(1, 2).reshape(b, t, self.heads * self.kv))
        return out, position_bias


def _relative_buckets(rel: torch.Tensor, bidirectional: bool, buckets: int = 32, max_distance: int = 128):
    """T5's relative-position buckets (exact for near positions, log-spaced beyond)."""
    out = torch.zeros_like(rel)
    if bidirectional:
        buckets //= 2
        out = out + (rel > 0).long() * buckets
        rel = rel.abs()
    else:
        rel = -torch.clamp(rel, max=0)
    exact = buckets // 2
    large = exact + (torch.log(rel.float().clamp(min=1) / exact) / math.log(max_distance / exact)
                     * (buckets - exact)).long()
    large = torch.clamp(large, max=buckets - 1)
    return out + torch.where(rel < exact, rel, large)


class T5Block(nn.Module):
    def __init__(self, d: int, ff: int, heads: int, kv: int, bias: bool, decoder: bool) -> None:
        super().__init__()
        self.self_attn, self.n1 = T5Attention(d, heads, kv, bias), RMSNorm(d)
        self.cross = T5Attention(d, heads, kv, False) if decoder else None
        self.n2 = RMSNorm(d) if decoder else None
        self.wi0, self.wi1 = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False)
        self.wo, self.n3 = nn.Linear(ff, d, bias=False), RMSNorm(d)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, bias=None, enc=None):
        y, bias = self.self_attn(self.n1(x), position_bias=bias, causal=enc is not None)
        x = x + self.drop(y)
        if self.cross is not None:
            y, _ = self.cross(self.n2(x), kv_in=enc)
            x = x + self.drop(y)
        h = self.n3(x)
        return x + self.drop(self.wo(self.drop(F.gelu(self.wi0(h), approximate="tanh") * self.wi1(h)))), bias


class T5(nn.Module):
    """T5 v1.1 XL as bigscience/T0_3B configures it: d_model 2048, d_ff 5120 (gated GELU), 32 heads of 64,
    24 + 24 layers, vocabulary 32128, LM head not tied: 2.85B parameters."""

    def __init__(self, vocab=32128, d=2048, ff=5120, heads=32, kv=64, layers=24) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.enc = nn.ModuleList(T5Block(d, ff, heads, kv, i == 0, False) for i in range(layers))
        self.dec = nn.ModuleList(T5Block(d, ff, heads, kv, i == 0, True) for i in range(layers))
        self.enc_norm, self.dec_norm = RMSNorm(d), RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.drop = nn.Dropout(0.1)

    def forward(self, ids: torch.Tensor, dec_ids: torch.Tensor) -> torch.Tensor:
        x, bias = self.drop(self.embed(ids)), None
        for block in self.enc:
            x, bias = block(x, bias)
        enc = self.drop(self.enc_norm(x))
        y, bias = self.drop(self.embed(dec_ids)), None
        for block in self.dec:
            y, bias = block(y, bias, enc)
        return self.lm_head(self.drop(self.dec_norm(y)))


def t5_lora() -> T5:
    """T0_3B under PEFT's LoRA defaults for T5 (r 8, alpha 32, dropout 0.1 on the q and v projections):
    every original weight frozen."""
    model = T5()
    for p in model.parameters():
        p.requires_grad_(False)
    for block in (*model.enc, *model.dec):
        for attn in (block.self_attn, block.cross):
            if attn is not None:
                attn.q, attn.v = LoraLinear(attn.q), LoraLinear(attn.v)
    return model


# ------------------------------------------------------------------------------------------- points


@dataclass
class Point:
    """One published measurement and what it is compared with."""

    key: str
    model: str
    params_m: float
    batch: int
    seq: str
    precision: str
    optimizer: str
    gpu: str
    gpu_gib: float
    published_gib: float
    kind: str  # "device" (nvidia-smi) or "allocated" (max_memory_allocated)
    source: str
    predicted_gib: float | None = None
    error_pct: float | None = None
    activations_gib: float | None = None
    static_gib: float | None = None


def _tokens(vocab: int, seq: int):
    return lambda b: torch.randint(100, vocab, (b, seq))


WORKLOADS = {
    # name: (model factory, make_batch, loss_fn, optimizer factory)
    "bert-large": (BertClassifier, lambda b: (torch.randint(100, 30000, (b, 512)), torch.zeros(b, dtype=torch.long)),
                   None, lambda ps: torch.optim.AdamW(ps, lr=5e-5)),
    "gpt2": (Gpt2LM, lambda b: (_tokens(50257, 16)(b), None), None, lambda ps: torch.optim.AdamW(ps, lr=5e-5)),
    "t0-3b": (T5, lambda b: ((torch.randint(100, 32000, (b, 64)), torch.randint(100, 32000, (b, 4))),
                             torch.randint(100, 32000, (b, 4))),
              lambda out, tgt: F.cross_entropy(out.reshape(-1, out.shape[-1]), tgt.reshape(-1)),
              lambda ps: torch.optim.AdamW(ps, lr=1e-3)),
    "t0-3b/lora": (t5_lora, lambda b: ((torch.randint(100, 32000, (b, 64)), torch.randint(100, 32000, (b, 4))),
                                       torch.randint(100, 32000, (b, 4))),
                   lambda out, tgt: F.cross_entropy(out.reshape(-1, out.shape[-1]), tgt.reshape(-1)),
                   lambda ps: torch.optim.AdamW(ps, lr=3e-3)),
}

HF_PERF = "HF-PERF"
POINTS = [
    Point("bert-large", "bert-large-uncased (cls)", 335.1, 4, "512", "fp32", "AdamW", "V100-16GB", 16.0,
          14949 * MIB / GIB, "device", HF_PERF),
    Point("bert-large", "bert-large-uncased (cls)", 335.1, 1, "512", "fp32", "AdamW", "V100-16GB", 16.0,
          8681 * MIB / GIB, "device", HF_PERF + " (batch 1 x 4 accumulated)"),
    Point("bert-large", "bert-large-uncased (cls)", 335.1, 4, "512", "fp16", "AdamW", "V100-16GB", 16.0,
          13939 * MIB / GIB, "device", HF_PERF),
    Point("bert-large/adafactor", "bert-large-uncased (cls)", 335.1, 4, "512", "fp32", "Adafactor", "V100-16GB",
          16.0, 12295 * MIB / GIB, "device", HF_PERF),
    Point("gpt2", "gpt2 (LM)", 124.4, 2, "16", "fp32", "AdamW", "(any)", 80.0, 2506.73664e6 / GIB, "allocated",
          "OPTIMUM"),
    Point("t0-3b", "T0_3B (T5 v1.1 XL)", 2849.8, 8, "64 -> 4", "fp32", "AdamW", "A100-80GB", 80.0, 47.14,
          "allocated", "PEFT"),
    Point("t0-3b/lora", "T0_3B + LoRA r8 (q, v)", 2849.8, 8, "64 -> 4", "fp32", "AdamW", "A100-80GB", 80.0, 14.4,
          "allocated", "PEFT"),
]


def _adafactor_state_bytes(build) -> float:
    """Adafactor's state (no first moment; factored second moment: a row and a column vector per matrix, the
    full vector for the rest), as torch.optim.Adafactor and HF's Adafactor(beta1=None) keep it. Counted
    from the parameter shapes: torch's Adafactor step reads a scalar (.item()), which fake tensors refuse."""
    with torch.device("meta"):
        model = build()
    total = 0
    for p in model.parameters():
        total += (p.shape[-2] + p.shape[-1]) if p.dim() >= 2 else p.numel()
    return 4.0 * total


def _analysis(key: str, precision: str, cache: dict):
    if (key, precision) not in cache:
        base = key.split("/")[0] if key.endswith("/adafactor") else key
        build, make_batch, loss_fn, optimizer = WORKLOADS[base]
        workload = Workload(model=build, make_batch=make_batch, loss_fn=loss_fn, optimizer=optimizer, name=key)
        analysis = analyze(workload, batch_sizes=(1, 2), precision=precision)
        if key.endswith("/adafactor"):
            analysis = analysis.model_copy(update={"optimizer": "Adafactor",
                                                   "optimizer_state_bytes": _adafactor_state_bytes(build)})
        cache[(key, precision)] = analysis
    return cache[(key, precision)]


def run() -> list[Point]:
    cache: dict = {}
    for point in POINTS:
        analysis = _analysis(point.key, point.precision, cache)
        point.params_m = round(analysis.param_count / 1e6, 1)
        fit = memory_from_analysis(analysis, point.batch, point.gpu_gib, point.precision)
        predicted = fit.peak_memory_gib - (DEFAULT_CUDA_CONTEXT_GIB if point.kind == "allocated" else 0.0)
        point.predicted_gib = predicted
        point.error_pct = (predicted - point.published_gib) / point.published_gib * 100.0
        point.activations_gib = fit.breakdown["activations"] + fit.breakdown.get("activations_fixed", 0.0)
        point.static_gib = sum(fit.breakdown[k] for k in ("weights", "gradients", "optimizer_state",
                                                          "half_weight_copies") if k in fit.breakdown)
    return POINTS


def table(points: list[Point]) -> str:
    lines = ["| model | params | batch | tokens | precision | optimizer | GPU | published GiB (kind) | "
             "predicted GiB | error | of which weights+grads+state / activations |",
             "|---|---:|---:|---|---|---|---|---:|---:|---:|---|"]
    for p in points:
        lines.append(f"| {p.model} | {p.params_m:,.0f}M | {p.batch} | {p.seq} | {p.precision} | {p.optimizer} | "
                     f"{p.gpu} | {p.published_gib:.2f} ({p.kind}, {p.source}) | {p.predicted_gib:.2f} | "
                     f"{p.error_pct:+.0f}% | {p.static_gib:.2f} / {p.activations_gib:.2f} |")
    errors = [abs(p.error_pct) for p in points]
    signed = [p.error_pct for p in points]
    lines.append("")
    lines.append(f"{len(points)} points: median |error| {statistics.median(errors):.0f}%, max {max(errors):.0f}%, "
                 f"mean signed {statistics.fmean(signed):+.0f}%.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ns = ap.parse_args(argv)
    points = run()
    print(json.dumps([asdict(p) for p in points], indent=1) if ns.json else table(points))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
