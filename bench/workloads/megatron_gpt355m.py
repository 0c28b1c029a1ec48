"""Megatron Core's GPT-355M as kopernik278/megatron-performance-lab profiled it on an A40, rebuilt in plain torch.

The profiled run (docs/experiments/phase2_nsys_baseline.md and scripts/phase1_baseline.py at 6eab602 / a96387d,
2026-08): Megatron Core ``GPTModel`` (Megatron-LM 09fde85, core 0.20.0) with ``get_gpt_layer_local_spec()``, no
Transformer Engine, no apex, unfused attention; 24 layers, width 1,024, 16 heads of 64, FFN 4,096, learned
positions, tied output layer, dropout 0.1 (hidden and attention), vocabulary 50,304, 2,048 tokens, micro-batch 1,
one GPU; fp32 parameters under ``torch.autocast("cuda", torch.bfloat16)``; ``torch.optim.AdamW(lr=1e-4,
foreach=False, fused=False)``; PyTorch 2.8.0+cu128. 355,919,872 parameters.

What this file reproduces, op for op, from Megatron Core's code at that commit (a ``TransformerConfig`` built
directly leaves every fusion off):

* Every linear is ``torch.matmul(x, W.t())`` with the bias added apart, not ``F.linear``: under autocast the
  product is bf16 and a bias added to it promotes it to fp32. The QKV projection and fc1 add their bias at once
  (fp32 out); the attention projection and fc2 hand theirs to the bias-dropout-add, which casts the bf16
  product to fp32, adds the bias, drops out and adds the fp32 residual.
* Attention is Megatron's ``DotProductAttention`` (unfused): ``baddbmm`` into a preallocated fp32 buffer with
  beta 0 and alpha 1/8 (autocast casts the buffer, q and k to bf16), the causal mask by ``masked_fill_`` in
  place on the bf16 scores, ``nn.Softmax`` (autocast: fp32 probabilities), dropout on the fp32 probabilities,
  ``bmm`` with v (cast to bf16 again), then ``permute(2, 0, 1, 3).contiguous()``.
* Activations are ``[sequence, batch, width]``; with batch 1 Megatron's transposes are free.
* The loss is Megatron's ``vocab_parallel_cross_entropy`` at one rank: ``.float()`` of the bf16 logits, max,
  subtract in place, the target's logit, exp in place, sum, ``log(sum) - target``, the softmax kept for
  backward; backward subtracts one at the targets and scales by the incoming gradient. Its three
  ``all_reduce`` calls on a one-rank group are left out (no kernel at one rank worth pricing).

Left out, with what each would add: Megatron's linear ``autograd.Function`` saves its fp32 input and the fp32
weight and casts both again in backward (about 0.12 GB a layer a step); the profiled run also had the NVTX
ranges of ``emit_nvtx``. The published step: 551.85 ms (100 steps, no profiler); the kernel table:
bench/kernel_trace_a40.py.

    python bench/kernel_trace_a40.py
"""

import torch
import torch.nn.functional as F
from torch import nn

DATASET_SIZE = 100  # sequences (the profiled run timed 100 steps of one)
EPOCHS = 1
BATCH_SIZE = 1
PRECISION = "bf16"
SEQ_LEN = 2048
VOCAB_SIZE = 50304
WIDTH = 1024
HEADS = 16
FFN = 4096
LAYERS = 24
DROPOUT = 0.1


def _linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return torch.matmul(x, weight.t())  # Megatron's _linear_forward; the bias is the caller's


class Layer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(WIDTH, eps=1e-5)
        self.w_qkv = nn.Parameter(torch.randn(3 * WIDTH, WIDTH) * 0.02)
        self.b_qkv = nn.Parameter(torch.zeros(3 * WIDTH))
        self.w_proj = nn.Parameter(torch.randn(WIDTH, WIDTH) * 0.02)
        self.b_proj = nn.Parameter(torch.zeros(WIDTH))
        self.ln2 = nn.LayerNorm(WIDTH, eps=1e-5)
        self.w_fc1 = nn.Parameter(torch.randn(FFN, WIDTH) * 0.02)
        self.b_fc1 = nn.Parameter(torch.zeros(FFN))
        self.w_fc2 = nn.Parameter(torch.randn(WIDTH, FFN) * 0.02)
        self.b_fc2 = nn.Parameter(torch.zeros(WIDTH))

    def attention(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        s, b, _ = x.shape
        hn = WIDTH // HEADS
        qkv = _linear(x, self.w_qkv) + self.b_qkv  # fp32: the bias is added inside the linear
        q, k, v = qkv.view(s, b, HEADS, 3 * hn).split([hn, hn, hn], dim=-1)
        q = q.reshape(s, b * HEADS, hn)
        k = k.reshape(s, b * HEADS, hn)
        v = v.reshape(s, b * HEADS, hn)
        buffer = torch.empty(b * HEADS, s, s, dtype=q.dtype, device=q.device)  # Megatron's global buffer
        scores = torch.baddbmm(buffer, q.transpose(0, 1), k.transpose(0, 1).transpose(1, 2), beta=0.0,
                               alpha=1.0 / hn ** 0.5)
        scores = scores.view(b, HEADS, s, s)
        scores.masked_fill_(mask, -10000.0)
        probs = torch.softmax(scores, dim=-1)
        probs = F.dropout(probs, DROPOUT, self.training)
        context = torch.bmm(probs.view(b * HEADS, s, s), v.transpose(0, 1))
        return context.view(b, HEADS, s, hn).permute(2, 0, 1, 3).contiguous().view(s, b, WIDTH)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        a = _linear(self.attention(self.ln1(x), mask), self.w_proj)
        x = x + F.dropout(a.to(x.dtype) + self.b_proj, DROPOUT, self.training)  # bias-dropout-add, unfused
        h = F.gelu(_linear(self.ln2(x), self.w_fc1) + self.b_fc1)
        m = _linear(h, self.w_fc2)
        return x + F.dropout(m.to(x.dtype) + self.b_fc2, DROPOUT, self.training)


class _VocabCrossEntropy(torch.autograd.Function):
    """Megatron's vocab_parallel_cross_entropy at one rank (the all_reduces on a one-rank group left out)."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        logits -= torch.max(logits, dim=-1)[0].unsqueeze(-1)
        flat = logits.view(-1, logits.shape[-1])
        rows = torch.arange(flat.shape[0], device=flat.device)
        predicted = flat[rows, target.view(-1)].clone().view_as(target)
        torch.exp(logits, out=logits)
        sum_exp = logits.sum(dim=-1)
        loss = torch.log(sum_exp) - predicted
        logits.div_(sum_exp.unsqueeze(-1))
        ctx.save_for_backward(logits, target)
        return loss

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        softmax, target = ctx.saved_tensors
        grad = softmax.clone()
        flat = grad.view(-1, grad.shape[-1])
        rows = torch.arange(flat.shape[0], device=flat.device)
        flat[rows, target.view(-1)] -= 1.0
        grad.mul_(grad_output.unsqueeze(-1))
        return grad, None


class GPT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.word = nn.Embedding(VOCAB_SIZE, WIDTH)
        self.position = nn.Embedding(SEQ_LEN, WIDTH)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.final_ln = nn.LayerNorm(WIDTH, eps=1e-5)

    def forward(self, tokens: torch.Tensor, labels: torch.Tensor, loss_mask: torch.Tensor) -> torch.Tensor:
        b, s = tokens.shape
        positions = torch.arange(s, device=tokens.device)
        x = (self.word(tokens) + self.position(positions)[None]).transpose(0, 1).contiguous()  # [s, b, h]
        x = F.dropout(x, DROPOUT, self.training)
        mask = ~torch.tril(torch.ones(s, s, dtype=torch.bool, device=tokens.device)).view(1, 1, s, s)
        mask = mask.expand(b, -1, -1, -1)
        for layer in self.layers:
            x = layer(x, mask)
        logits = _linear(self.final_ln(x), self.word.weight)  # tied output layer, no bias: bf16 logits
        losses = _VocabCrossEntropy.apply(logits, labels.transpose(0, 1).contiguous()).transpose(0, 1)
        mask_1d = loss_mask.view(-1).float()
        return torch.sum(losses.reshape(-1) * mask_1d) / mask_1d.sum()


def build_model() -> nn.Module:
    return GPT()


def make_batch(batch_size: int):
    tokens = torch.randint(0, VOCAB_SIZE, (batch_size, SEQ_LEN))
    labels = torch.roll(tokens, shifts=-1, dims=1)
    loss_mask = torch.ones(batch_size, SEQ_LEN)
    return {"tokens": tokens, "labels": labels, "loss_mask": loss_mask}, None  # the model returns its loss


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=1e-4, foreach=False, fused=False)
