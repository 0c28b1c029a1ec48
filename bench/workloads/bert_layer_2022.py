"""One Hugging Face ``BertLayer`` at bert-large's sizes in pure fp16, as transformers computed it in 2022, for
bench/module_bench_3090ti.py: the layer Mu Li's micro-benchmark times on an RTX 3090 Ti.

The notebook (github.com/mli/transformers-benchmarks ``micro_bench.ipynb`` at 04df81d) builds
``BertLayer(AutoConfig.from_pretrained("bert-large-uncased")).half().cuda()`` in its default train mode (dropout
0.1 on), feeds ``torch.randn(b, s, 1024).half()`` (no gradient), and times ``layer(X)`` and
``layer(X)[0].sum().backward()``. Spelled out here as ``BertSelfAttention`` / ``BertSelfOutput`` /
``BertIntermediate`` / ``BertOutput`` computed it then (before SDPA): three projections, heads by ``view`` +
``permute``, ``matmul`` / scale / softmax / dropout / ``matmul``, the output projection, dropout, residual,
LayerNorm (eps 1e-12); the FFN with exact GELU. ``ADVISOR_LAYER_SEQ`` sets the sequence (default 128).
"""
import math
import os

import torch
import torch.nn.functional as F
from torch import nn

HIDDEN, HEADS, FFN = 1024, 16, 4096
SEQ_LEN = int(os.environ.get("ADVISOR_LAYER_SEQ", "128"))
BATCH_SIZE = 64
DATASET_SIZE = 64 * 1000
EPOCHS = 1


class BertLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.query, self.key, self.value = (nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
        self.attn_out = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.inter = nn.Linear(HIDDEN, FFN)
        self.out = nn.Linear(FFN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, x):
        b, s, _ = x.shape
        d = HIDDEN // HEADS

        def heads(t):
            return t.view(b, s, HEADS, d).permute(0, 2, 1, 3)

        q = heads(self.query(x))
        k = heads(self.key(x))
        v = heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
        probs = F.dropout(F.softmax(scores, dim=-1), 0.1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous().view(b, s, HIDDEN)
        h = self.ln1(F.dropout(self.attn_out(ctx), 0.1) + x)
        y = self.out(F.gelu(self.inter(h)))
        return self.ln2(F.dropout(y, 0.1) + h).sum()


def build_model():
    return BertLayer().half()


def make_batch(batch_size):
    return torch.randn(batch_size, SEQ_LEN, HIDDEN).half(), None


def configure_optimizer(params):
    return torch.optim.SGD(params, lr=1e-3)
