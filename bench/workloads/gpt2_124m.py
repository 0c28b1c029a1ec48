"""A GPT-2-124M-sized language model (12 layers, 12 heads, width 768, 1,024-token context, 50,257-token vocabulary,
learned positions, pre-LayerNorm blocks with biases, the output layer tied to the token embedding): the size of
the smallest GPT-2 and of nanoGPT's GPT-2 124M training config, written here in plain torch. 124,439,808
parameters.

A model that obviously belongs on a GPU: on a 2-core CPU one step at batch size 1 takes tens of seconds, and
at the default batch size of 12 minutes and about 15 GB of memory. ``advisor recommend`` has to answer for it
quickly anyway (bench/README.md, "recommend on a slow CPU"): the probe times what fits in its budget and the
CPU estimate comes from the analysis when not even one step does.

The model's ``forward(input_ids, labels)`` returns the next-token cross-entropy itself, so ``make_batch``
returns a dict of inputs and ``None`` as the target. Batches are random token ids of the real shapes.
Defaults: 1,000,000 sequences of 1,024 tokens (about a billion tokens), one epoch, batch size 12, AdamW.

    advisor recommend bench/workloads/gpt2_124m.py --deadline 24h
"""

import torch
import torch.nn.functional as F
from torch import nn

DATASET_SIZE = 1_000_000  # sequences of SEQ_LEN tokens
EPOCHS = 1
BATCH_SIZE = 12
SEQ_LEN = 1024
VOCAB_SIZE = 50257
WIDTH = 768
HEADS = 12
LAYERS = 12


class Block(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.attn_norm = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp_norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, w = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).view(b, n, 3, self.heads, w // self.heads).unbind(dim=2)
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                           is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, n, w))
        return x + self.mlp(self.mlp_norm(x))


class GPT(nn.Module):
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
    return GPT()


def make_batch(batch_size: int):
    tokens = torch.randint(0, VOCAB_SIZE, (batch_size, SEQ_LEN))
    return {"input_ids": tokens, "labels": tokens}, None  # the model returns its own loss


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=6e-4, betas=(0.9, 0.95), weight_decay=0.1)
