"""One BERT-large-sized ``torch.nn.TransformerEncoderLayer`` as PyTorch 1.5 ran it (2020), in pure fp16, for
bench/per_op_profile.py: the baseline of Ivanov et al., "Data Movement Is All You Need: A Case Study on
Optimizing Transformers" (MLSys 2021, arXiv:2007.00072), whose authors publish its fwd+bwd time on a V100-SXM2.

Their script (github.com/spcl/substation, ``pytorch_profiling/transformer_layer.py`` at 9ae8698, 2021-01-30):
``torch.nn.TransformerEncoderLayer(1024, 16, dim_feedforward=4096, activation="relu")`` (dropout 0.1,
post-LayerNorm), ``.half()`` with no autocast (``--fp fp16`` without ``--apex``), input (sequence, batch,
1024), ``forward`` then ``result.backward(dy)``; the gradients' zeroing is timed apart. The layer is spelled
out here as torch 1.5's ``F.multi_head_attention_forward`` computed it: one fused input projection split in
three, ``q`` scaled, heads made contiguous, ``bmm`` / softmax / dropout / ``bmm``, the output projection. Current
``nn.MultiheadAttention`` calls fused attention instead, which is not what was timed. The loss is the output's
sum (its backward is ``dy`` of ones: one read of the output more than theirs).

``ADVISOR_LAYER_SEQ`` sets the sequence (default 512); the batch is the job's batch size (their two
configurations: batch 8 x 512 and batch 96 x 128).
"""

import os

import torch
import torch.nn.functional as F
from torch import nn

HIDDEN, HEADS, FFN = 1024, 16, 4096
SEQ_LEN = int(os.environ.get("ADVISOR_LAYER_SEQ", "512"))
BATCH_SIZE = 8
DATASET_SIZE = 8 * 1000
EPOCHS = 1


class EncoderLayer2020(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.in_proj = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.out_proj = nn.Linear(HIDDEN, HIDDEN)
        self.linear1, self.linear2 = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)
        self.norm1, self.norm2 = nn.LayerNorm(HIDDEN), nn.LayerNorm(HIDDEN)

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        n, b, _ = src.shape
        d = HIDDEN // HEADS
        q, k, v = self.in_proj(src).chunk(3, dim=-1)
        q = q * d ** -0.5

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.contiguous().view(n, b * HEADS, d).transpose(0, 1)

        q, k, v = heads(q), heads(k), heads(v)
        weights = F.dropout(torch.bmm(q, k.transpose(1, 2)).softmax(dim=-1), 0.1)
        ctx = torch.bmm(weights, v).transpose(0, 1).contiguous().view(n, b, HIDDEN)
        src = self.norm1(src + F.dropout(self.out_proj(ctx), 0.1))
        y = self.linear2(F.dropout(F.relu(self.linear1(src)), 0.1))
        return self.norm2(src + F.dropout(y, 0.1)).sum()


def build_model() -> nn.Module:
    return EncoderLayer2020().half()


def make_batch(batch_size: int):
    return torch.randn(SEQ_LEN, batch_size, HIDDEN).half().requires_grad_(), None


def configure_optimizer(params) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=1e-3)
