"""One fused attention call and the projection feeding it, shaped by the environment (ADVISOR_ATTN_HEAD, _HEADS, _SEQ,
_CAUSAL, _MASK, _DROPOUT): bench/kernel_paces_h200.py prices it against the H200's measured kernels."""

import os

import torch
import torch.nn.functional as F
from torch import nn

HEAD = int(os.environ.get("ADVISOR_ATTN_HEAD", 64))
HEADS = int(os.environ.get("ADVISOR_ATTN_HEADS", 12))
SEQ = int(os.environ.get("ADVISOR_ATTN_SEQ", 384))
CAUSAL = os.environ.get("ADVISOR_ATTN_CAUSAL", "0") == "1"
MASK = os.environ.get("ADVISOR_ATTN_MASK", "0") == "1"
DROP = float(os.environ.get("ADVISOR_ATTN_DROPOUT", 0))
BATCH_SIZE = max(1, 65536 // SEQ)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(HEAD * HEADS, 3 * HEAD * HEADS)

    def forward(self, x):
        b = x.shape[0]
        q, k, v = self.qkv(x).view(b, SEQ, 3, HEADS, HEAD).permute(2, 0, 3, 1, 4)
        mask = torch.zeros(b, 1, 1, SEQ, dtype=x.dtype, device=x.device) if MASK else None
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=DROP, is_causal=CAUSAL)


def build_model():
    return Attention()


def make_batch(batch_size):
    return torch.randn(batch_size, SEQ, HEAD * HEADS), torch.zeros(batch_size)


def loss_fn(out, target):
    return out.float().mean()
