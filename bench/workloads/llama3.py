"""Llama 3.1 8B as torchtitan trains it (``llama3_8b.toml``: 8,192-token sequences, AdamW), written in plain
torch, so the advisor can be checked against torchtitan's published H100 rows
(profiles/published_throughput.csv, source ``torchtitan``).

Architecture (Meta's Llama 3 8B, torchtitan's ``llama3`` flavor ``8B``): width 4,096, 32 layers, 32 query
heads and 8 key/value heads (grouped-query attention, K/V repeated to 32 heads before attention, as
torchtitan's ``repeat_kv``), rotary positions (theta 500,000; applied with real cos/sin tables instead of
torchtitan's complex multiply: the same elementwise work), RMSNorm (eps 1e-5) before attention and MLP, a
SwiGLU MLP of width 14,336, a 128,256-token vocabulary, an untied output layer, no biases.
8,030,261,248 parameters.

Attention is ``F.scaled_dot_product_attention(is_causal=True)`` (torchtitan's choice too). ``ADVISOR_ACT_CKPT=1``
wraps every block in ``torch.utils.checkpoint`` (full recompute of the block); the torchtitan rows used
*selective op* checkpointing, which recomputes less, so a full-recompute prediction is an upper bound there.
``ADVISOR_LLAMA_SEQ_LEN`` sets the sequence length (default 8,192). What the runs did that this file does
not: FSDP2 over 8 GPUs, bf16 parameters with fp32 gradient reduction, optionally torch.compile.

The model returns its own next-token loss; batches are random token ids of the real shapes.
"""

import os

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

VOCAB_SIZE = 128_256
WIDTH = 4096
LAYERS = 32
HEADS = 32
KV_HEADS = 8
FFN_WIDTH = 14_336
ROPE_THETA = 500_000.0
NORM_EPS = 1e-5
SEQ_LEN = int(os.environ.get("ADVISOR_LLAMA_SEQ_LEN", "8192") or 8192)
DATASET_SIZE = 100_000  # sequences of SEQ_LEN tokens
EPOCHS = 1
BATCH_SIZE = 2


def act_ckpt() -> bool:
    return os.environ.get("ADVISOR_ACT_CKPT", "0").strip().lower() in {"1", "true", "yes"}


class RMSNorm(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + NORM_EPS)).type_as(x) * self.weight


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.head_dim = WIDTH // HEADS
        self.attention_norm = RMSNorm(WIDTH)
        self.wq = nn.Linear(WIDTH, HEADS * self.head_dim, bias=False)
        self.wk = nn.Linear(WIDTH, KV_HEADS * self.head_dim, bias=False)
        self.wv = nn.Linear(WIDTH, KV_HEADS * self.head_dim, bias=False)
        self.wo = nn.Linear(HEADS * self.head_dim, WIDTH, bias=False)
        self.ffn_norm = RMSNorm(WIDTH)
        self.w1 = nn.Linear(WIDTH, FFN_WIDTH, bias=False)
        self.w2 = nn.Linear(FFN_WIDTH, WIDTH, bias=False)
        self.w3 = nn.Linear(WIDTH, FFN_WIDTH, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        h = self.attention_norm(x)
        q = self.wq(h).view(b, n, HEADS, self.head_dim).transpose(1, 2)
        k = self.wk(h).view(b, n, KV_HEADS, self.head_dim).transpose(1, 2)
        v = self.wv(h).view(b, n, KV_HEADS, self.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)  # grouped-query attention: K/V shared by 4 heads
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.wo(y.transpose(1, 2).reshape(b, n, WIDTH))
        h = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class Llama(nn.Module):
    def __init__(self, checkpointed: bool) -> None:
        super().__init__()
        self.tok_embeddings = nn.Embedding(VOCAB_SIZE, WIDTH)
        self.layers = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = RMSNorm(WIDTH)
        self.output = nn.Linear(WIDTH, VOCAB_SIZE, bias=False)
        self.checkpointed = checkpointed
        head_dim = WIDTH // HEADS
        freqs = 1.0 / ROPE_THETA ** (torch.arange(0, head_dim, 2).float() / head_dim)
        angles = torch.outer(torch.arange(SEQ_LEN).float(), freqs)
        angles = torch.cat((angles, angles), dim=-1)
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        n = input_ids.shape[1]
        cos, sin = self.cos[:n], self.sin[:n]
        x = self.tok_embeddings(input_ids)
        for layer in self.layers:
            # Reentrant: the advisor's fake-tensor analysis rejects the non-reentrant recompute check.
            x = checkpoint(layer, x, cos, sin, use_reentrant=True) if self.checkpointed else layer(x, cos, sin)
        logits = self.output(self.norm(x))
        # Position t predicts token t + 1.
        return F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB_SIZE), labels[:, 1:].reshape(-1))


def build_model() -> nn.Module:
    return Llama(act_ckpt())


def make_batch(batch_size: int):
    tokens = torch.randint(0, VOCAB_SIZE, (batch_size, SEQ_LEN))
    return {"input_ids": tokens, "labels": tokens}, None  # the model returns its own loss


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
