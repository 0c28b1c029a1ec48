"""Stanford CS336 (spring 2025) assignment 2's benchmark model, the staff ``BasicsTransformerLM``, in plain torch.

The assignment has students time the forward and backward pass of the course's reference Transformer LM
(``cs336-basics/cs336_basics/model.py``, shipped with the assignment) at five sizes, batch 4, vocabulary
10,000, in fp32 and under ``torch.autocast(..., dtype=torch.bfloat16)``, on whatever GPU they have. Many
publish their tables; bench/cs336_rows.py sets those tables beside this file's prediction.

What this file reproduces, op for op, from the staff model (read in damek/cs336-assignment2-systems at
02b3f89, which carries it unchanged apart from NVTX ranges):

* Every linear is ``einsum(x, W, "... d_in, d_out d_in -> ... d_out")`` with no bias; the embedding is an
  index into a weight; the output layer is not tied.
* RMSNorm upcasts to fp32, ``rsqrt(x.pow(2).mean(-1) + eps)``, scales, multiplies by the weight and casts back
  to the input's dtype (the residual stream is fp32 under autocast, so the cast is free there).
* RoPE splits each head's dimensions into interleaved pairs (strided views), gathers cos and sin by position,
  rotates with four multiplies and two adds, and interleaves the pairs again (``stack`` + reshape).
* Attention is hand-written: Q, K and V by three projections, heads by ``view`` + ``permute``, scores by
  ``einsum`` divided by sqrt(d_k), the causal mask by ``torch.where`` against -inf, the course's softmax
  (subtract the max, ``exp``, divide by the sum), ``einsum`` with V, heads merged with ``.contiguous()``.
* The FFN is SwiGLU: ``w2(silu(w1 x) * w3 x)`` with ``silu(x) = x * sigmoid(x)``.
* The loss is the course's cross-entropy (``cs336_basics.nn_utils``): the logits less their max, less their
  logsumexp, gathered at the targets, negated, averaged. Students' scripts use this, ``F.cross_entropy`` or
  a plain sum; on these sizes the loss is under 1% of the step.

``ADVISOR_CS336_SIZE`` picks the size (small, medium, large, xl, 2.7b, 10b; default small) and
``ADVISOR_CS336_SEQ`` the context length (default 128); ``ADVISOR_CS336_DIMS`` ("d_model,d_ff,layers,heads")
overrides the size. The batch is the job's batch size.
"""

import math
import os

import torch
from torch import nn

# (d_model, d_ff, layers, heads): the assignment's table of model sizes
# (the 2026 handout renames 2.7b "xl" and adds "10b"; bench/cs336_rows.py goes by the dimensions)
SIZES = {"small": (768, 3072, 12, 12), "medium": (1024, 4096, 24, 16), "large": (1280, 5120, 36, 20),
         "xl": (1600, 6400, 48, 25), "2.7b": (2560, 10240, 32, 32), "10b": (4608, 12288, 50, 36)}
SIZE = os.environ.get("ADVISOR_CS336_SIZE", "small").strip().lower() or "small"
SEQ_LEN = int(os.environ.get("ADVISOR_CS336_SEQ", "128") or 128)
# "d_model,d_ff,layers,heads" overrides the size (some students' handouts size d_ff as 8/3 of d_model)
_DIMS = os.environ.get("ADVISOR_CS336_DIMS", "").strip()
D_MODEL, D_FF, LAYERS, HEADS = tuple(int(v) for v in _DIMS.split(",")) if _DIMS else SIZES[SIZE]
VOCAB_SIZE = 10_000
ROPE_THETA = 10_000.0

DATASET_SIZE = 400
EPOCHS = 1
BATCH_SIZE = 4


class Linear(nn.Module):
    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) * math.sqrt(2 / (d_in + d_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...i,oi->...o", x, self.weight)


class RMSNorm(nn.Module):
    def __init__(self, width: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        in_dtype = x.dtype
        x = x.to(torch.float32)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return (self.weight * x).to(in_dtype)


class Rope(nn.Module):
    def __init__(self, head_dim: int) -> None:
        super().__init__()
        freqs = torch.outer(torch.arange(SEQ_LEN, dtype=torch.float32),
                            ROPE_THETA ** -(torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("cos_sin", torch.stack((torch.cos(freqs), torch.sin(freqs))), persistent=False)

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        pairs = x.unflatten(-1, (-1, 2))
        x1, x2 = pairs[..., 0], pairs[..., 1]
        cos, sin = self.cos_sin[:, positions, :]
        rotated = torch.stack((cos * x1 - sin * x2, sin * x1 + cos * x2), dim=-1)
        return rotated.flatten(-2).contiguous()


def softmax(x: torch.Tensor, dim: int) -> torch.Tensor:
    e = torch.exp(x - torch.max(x, dim=dim, keepdim=True)[0])
    return e / torch.sum(e, dim=dim, keepdim=True)


class Attention(nn.Module):
    def __init__(self, rope: Rope) -> None:
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj = Linear(D_MODEL, D_MODEL), Linear(D_MODEL, D_MODEL), Linear(
            D_MODEL, D_MODEL)
        self.output_proj = Linear(D_MODEL, D_MODEL)
        self.rope = rope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, _ = x.shape
        q, k, v = (p(x).view(b, s, HEADS, -1).permute(0, 2, 1, 3) for p in (self.q_proj, self.k_proj, self.v_proj))
        positions = torch.arange(s, device=x.device).view(1, 1, s)
        q, k = self.rope(q, positions), self.rope(k, positions)
        seq = torch.arange(s, device=x.device)
        causal = seq.view(1, 1, s, 1) >= seq.view(1, 1, 1, s)
        scores = torch.einsum("...qd,...kd->...qk", q, k) / math.sqrt(q.shape[-1])
        weights = softmax(torch.where(causal, scores, float("-inf")), dim=-1)
        out = torch.einsum("...qk,...kd->...qd", weights, v)
        return self.output_proj(out.permute(0, 2, 1, 3).reshape(b, s, D_MODEL).contiguous())


class SwiGLU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w1, self.w2, self.w3 = Linear(D_MODEL, D_FF), Linear(D_FF, D_MODEL), Linear(D_MODEL, D_FF)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.w1(x)
        return self.w2(h * torch.sigmoid(h) * self.w3(x))


class Block(nn.Module):
    def __init__(self, rope: Rope) -> None:
        super().__init__()
        self.ln1, self.attn, self.ln2, self.ffn = RMSNorm(D_MODEL), Attention(rope), RMSNorm(D_MODEL), SwiGLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))


class TransformerLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.token_embeddings = nn.Parameter(torch.randn(VOCAB_SIZE, D_MODEL))
        rope = Rope(D_MODEL // HEADS)
        self.layers = nn.ModuleList(Block(rope) for _ in range(LAYERS))
        self.ln_final = RMSNorm(D_MODEL)
        self.lm_head = Linear(D_MODEL, VOCAB_SIZE)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.token_embeddings[tokens, :]
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.ln_final(x))


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    shifted = logits - logits.max(dim=-1, keepdim=True).values
    log_probs = shifted - torch.logsumexp(shifted, dim=-1, keepdim=True)
    return -torch.gather(log_probs, -1, targets.unsqueeze(-1)).mean()


def build_model() -> nn.Module:
    return TransformerLM()


def make_batch(batch_size: int):
    tokens = torch.randint(0, VOCAB_SIZE, (batch_size, SEQ_LEN))
    return tokens, torch.randint(0, VOCAB_SIZE, (batch_size, SEQ_LEN))


def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return cross_entropy(logits, targets)


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=1e-3)
