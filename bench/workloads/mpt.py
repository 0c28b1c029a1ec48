"""An MPT decoder (MosaicML llm-foundry's ``mpt_causal_lm``) as its published throughput tables trained it,
written in plain torch, so the advisor can be checked against llm-foundry's benchmark rows
(profiles/published_throughput.csv, source ``llm-foundry``).

The architecture is the one the benchmark runs measured, read back from the tables' ``NumParams`` column:
every count there equals ``V*d + S*d + L*(12*d^2 + 13*d) + 2*d`` (V = 50,368-token vocabulary, S = the run's
sequence length, d = width, L = layers), which means

- learned absolute positions (an ``S x d`` table that grows with the sequence length), **not** ALiBi;
- biases on every linear layer and on every LayerNorm (the yamls of that time did not set ``no_bias``);
- pre-LayerNorm blocks: fused ``Wqkv`` (d -> 3d) + ``out_proj``, a 4x GELU MLP (exact GELU);
- the output layer tied to the token embedding.

Attention is ``F.scaled_dot_product_attention(is_causal=True)``: the runs used llm-foundry's Triton
FlashAttention (``attn_impl: triton``), which is also one fused kernel that never writes the attention matrix.
Sizes (``ADVISOR_MPT_SIZE``, default ``125m``) follow the llm-foundry yamls (d_model / n_layers / n_heads):

    125m  768 / 12 / 12    125,311,488 parameters at 2,048 tokens
    350m 1024 / 24 / 16    355,985,408
    760m 1536 / 24 / 12    760,470,528
    1b   2048 / 24 / 16  1,315,950,592
    3b   2560 / 32 / 20  2,651,837,440
    7b   4096 / 32 / 32  6,658,859,008

``ADVISOR_MPT_SEQ_LEN`` sets the sequence length (default 2,048; the positional table follows it, as in the
tables). ``ADVISOR_ACT_CKPT=1`` wraps each block in ``torch.utils.checkpoint``: the block's forward runs again in
backward. The runs used the non-reentrant variant; this file uses the reentrant one, which costs the same
FLOPs and bytes, because the advisor's fake-tensor analysis rejects the non-reentrant variant's recompute
check (its fused-attention stand-in saves other tensors on the recompute than in the forward).

What the benchmark runs did that this file does not: FSDP ``FULL_SHARD`` over 8 GPUs (parameters gathered
per block), LayerNorm in bf16 (``low_precision_layernorm``), Composer's microbatching. The model returns its
own next-token loss; batches are random token ids of the real shapes.

    ADVISOR_MPT_SIZE=1b advisor predict bench/workloads/mpt.py --gpu A100-80GB --precision bf16
"""

import os

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

VOCAB_SIZE = 50_368
SIZES = {  # name: (d_model, n_layers, n_heads), from llm-foundry's scripts/train/yamls/pretrain/mpt-*.yaml
    "125m": (768, 12, 12),
    "350m": (1024, 24, 16),
    "760m": (1536, 24, 12),
    "1b": (2048, 24, 16),
    "3b": (2560, 32, 20),
    "7b": (4096, 32, 32),
}


def mpt_size() -> str:
    size = os.environ.get("ADVISOR_MPT_SIZE", "125m").strip().lower() or "125m"
    if size not in SIZES:
        raise ValueError(f"ADVISOR_MPT_SIZE={size!r} is not one of {', '.join(SIZES)}")
    return size


def seq_len() -> int:
    return int(os.environ.get("ADVISOR_MPT_SEQ_LEN", "2048") or 2048)


def act_ckpt() -> bool:
    return os.environ.get("ADVISOR_ACT_CKPT", "0").strip().lower() in {"1", "true", "yes"}


SEQ_LEN = seq_len()
DATASET_SIZE = 1_000_000  # sequences of SEQ_LEN tokens
EPOCHS = 1
BATCH_SIZE = 8


class Block(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm_1 = nn.LayerNorm(width)
        self.wqkv = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        self.norm_2 = nn.LayerNorm(width)
        self.up_proj = nn.Linear(width, 4 * width)
        self.down_proj = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, w = x.shape
        q, k, v = self.wqkv(self.norm_1(x)).view(b, n, 3, self.heads, w // self.heads).unbind(dim=2)
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                           is_causal=True)
        x = x + self.out_proj(y.transpose(1, 2).reshape(b, n, w))
        return x + self.down_proj(F.gelu(self.up_proj(self.norm_2(x))))


class MPT(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, max_len: int, checkpointed: bool) -> None:
        super().__init__()
        self.wte = nn.Embedding(VOCAB_SIZE, width)
        self.wpe = nn.Embedding(max_len, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.norm_f = nn.LayerNorm(width)
        self.checkpointed = checkpointed
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.02)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        n = input_ids.shape[1]
        x = self.wte(input_ids) + self.wpe(torch.arange(n, device=input_ids.device))[None]
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=True) if self.checkpointed else block(x)
        logits = F.linear(self.norm_f(x), self.wte.weight)  # tied output layer
        # Position t predicts token t + 1.
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))


def build_model() -> nn.Module:
    width, layers, heads = SIZES[mpt_size()]
    return MPT(width, layers, heads, SEQ_LEN, act_ckpt())


def make_batch(batch_size: int):
    tokens = torch.randint(0, VOCAB_SIZE, (batch_size, SEQ_LEN))
    return {"input_ids": tokens, "labels": tokens}, None  # the model returns its own loss


def configure_optimizer(params) -> torch.optim.Optimizer:
    # llm-foundry's decoupled_adamw: AdamW's arithmetic and state (two moments per parameter).
    return torch.optim.AdamW(params, lr=1.6e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
