"""A tiny decoder-only (GPT-style) transformer language model that computes its own loss.

4 pre-LayerNorm blocks, width 128, 4 heads, MLP 512, learned positions, a 2,048-token vocabulary and
64-token sequences; the output layer shares the token embedding. 1,063,680 parameters: small enough to
train on a 2-core CPU (about 60 ms a step at batch 16), with the shape of the big ones.

The model's ``forward(input_ids, labels)`` returns the scalar next-token cross-entropy itself (as Hugging
Face causal-LM models do), so ``make_batch`` returns a dict of inputs and ``None`` as the target.
Batches are random token ids of the real shapes. Defaults: 20,000 sequences (1.28M tokens), one epoch.

    advisor recommend examples/tiny_transformer_lm.py --epochs 3
"""

import torch
import torch.nn.functional as F
from torch import nn

DATASET_SIZE = 20_000  # sequences of SEQ_LEN tokens
EPOCHS = 1
BATCH_SIZE = 16
SEQ_LEN = 64
VOCAB_SIZE = 2048
WIDTH = 128
HEADS = 4
LAYERS = 4


class Block(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.attn_norm = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp_norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, w = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).view(b, n, 3, self.heads, w // self.heads).unbind(dim=2)
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                           is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, n, w))
        return x + self.mlp(self.mlp_norm(x))


class TinyLM(nn.Module):
    def __init__(self, vocab: int = VOCAB_SIZE, width: int = WIDTH, heads: int = HEADS, layers: int = LAYERS,
                 max_len: int = SEQ_LEN) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(max_len, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        nn.init.normal_(self.tokens.weight, std=0.02)
        nn.init.normal_(self.positions.weight, std=0.02)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        n = input_ids.shape[1]
        x = self.tokens(input_ids) + self.positions(torch.arange(n, device=input_ids.device))[None]
        for block in self.blocks:
            x = block(x)
        logits = self.norm(x) @ self.tokens.weight.t()  # tied output layer
        # Position t predicts token t + 1.
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))


def build_model() -> nn.Module:
    return TinyLM()


def make_batch(batch_size: int):
    tokens = torch.randint(0, VOCAB_SIZE, (batch_size, SEQ_LEN))
    return {"input_ids": tokens, "labels": tokens}, None  # the model returns its own loss


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
