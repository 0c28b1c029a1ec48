"""The analysis of a model with non-reentrant activation checkpointing and fused attention (issue 9)."""

from __future__ import annotations

import textwrap

from advisor.probe.analysis import analyze
from advisor.workload import load_workload

WORKLOAD = textwrap.dedent('''
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.utils.checkpoint import checkpoint

    BATCH_SIZE = 4
    CKPT = {ckpt}


    class Block(nn.Module):
        def __init__(self, d=64, h=4):
            super().__init__()
            self.h = h
            self.qkv = nn.Linear(d, 3 * d)
            self.out = nn.Linear(d, d)
            self.norm = nn.LayerNorm(d)

        def forward(self, x):
            b, n, d = x.shape
            q, k, v = self.qkv(self.norm(x)).view(b, n, 3, self.h, d // self.h).unbind(2)
            y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                               is_causal=True)
            return x + F.dropout(self.out(y.transpose(1, 2).reshape(b, n, d)), 0.1)


    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(Block() for _ in range(2))

        def forward(self, x):
            for blk in self.blocks:
                x = checkpoint(blk, x, use_reentrant=False) if CKPT else blk(x)
            return x


    def build_model():
        return Model()


    def make_batch(n):
        return torch.randn(n, 16, 64), torch.randn(n, 16, 64)


    def loss_fn(out, target):
        return F.mse_loss(out, target)
''')


def _analyse(tmp_path, ckpt: bool):
    path = tmp_path / f"ckpt_{ckpt}.py"
    path.write_text(WORKLOAD.format(ckpt=ckpt))
    return analyze(load_workload(path), precision="bf16")


def _attention_calls(analysis, phase: str) -> int:
    return sum(r.count for r in analysis.ops
               if r.phase == phase and r.op == "aten._scaled_dot_product_efficient_attention.default")


def test_non_reentrant_checkpoint_recomputes_the_fused_attention(tmp_path):
    plain = _analyse(tmp_path, False)
    ckpt = _analyse(tmp_path, True)
    # The recompute runs each block's forward again inside backward, through the same fused kernel.
    assert _attention_calls(plain, "forward") == 2 and _attention_calls(plain, "backward") == 0
    assert _attention_calls(ckpt, "forward") == 2 and _attention_calls(ckpt, "backward") == 2
    fwd = ckpt.forward_flops_per_sample
    assert ckpt.flops_per_sample - plain.flops_per_sample == fwd
    # Nothing of a block is kept for backward but its input; the peak adds one block's recompute in backward.
    recomputed = ckpt.recomputed_activation_bytes_per_sample
    assert plain.recomputed_activation_bytes_per_sample is None and recomputed > 0
    assert ckpt.activation_bytes_per_sample - recomputed < 0.5 * plain.activation_bytes_per_sample
    assert ckpt.activation_bytes_per_sample < plain.activation_bytes_per_sample
