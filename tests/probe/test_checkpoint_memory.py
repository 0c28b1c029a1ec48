"""Activation memory under activation checkpointing: the analysis against a real step's measured peak; the
recompute's FLOPs, which MFU leaves out.

Under ``torch.utils.checkpoint`` autograd saves only each region's inputs; the peak comes in backward, when a
region is recomputed. The analysis used to count the saved inputs alone (a quarter of the real peak here).
"""

from __future__ import annotations

import textwrap
import weakref

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from advisor.predictor.memory import memory_from_analysis
from advisor.probe.analysis import analyze
from advisor.workload import load_workload

D, SEQ = 64, 64

# 4 pre-LN MLP blocks; CKPT None: no checkpointing, else checkpoint(..., use_reentrant=CKPT) around each block.
WORKLOAD = textwrap.dedent('''
    import torch
    from torch import nn
    from torch.utils.checkpoint import checkpoint

    BATCH_SIZE = 32
    D, SEQ = {d}, {seq}
    CKPT = {ckpt}


    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.LayerNorm(D)
            self.up = nn.Linear(D, 4 * D)
            self.down = nn.Linear(4 * D, D)

        def forward(self, x):
            return x + self.down(torch.nn.functional.gelu(self.up(self.norm(x))))


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(D, D)  # a reentrant region's input must require grad for its weights to train
            self.blocks = nn.ModuleList(Block() for _ in range(4))
            self.head = nn.Linear(D, 10)

        def forward(self, x):
            x = self.inp(x)
            for b in self.blocks:
                x = b(x) if CKPT is None else checkpoint(b, x, use_reentrant=CKPT)
            return self.head(x.mean(1))


    def build_model():
        return Net()


    def make_batch(n):
        return torch.randn(n, SEQ, D), torch.randint(0, 10, (n,))
''')


class _LiveTensorBytes(TorchDispatchMode):
    """The peak of the bytes of tensor storages alive at once, of those the step's ops create (real tensors)."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, int] = {}
        self.peak = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                storage = t.untyped_storage()
                key = storage._cdata
                if key not in self.live:
                    self.live[key] = storage.nbytes()
                    weakref.finalize(storage, self.live.pop, key, None)
                    self.peak = max(self.peak, sum(self.live.values()))
        return out


def _workload(tmp_path, ckpt):
    path = tmp_path / f"ckpt_{ckpt}.py"
    path.write_text(WORKLOAD.format(d=D, seq=SEQ, ckpt=ckpt))
    return load_workload(path)


def _measured_bytes_per_sample(workload) -> float:
    """Slope of a real forward + loss + backward's peak over batch 32 -> 128 (the weights' gradients cancel)."""
    peaks = {}
    for batch in (32, 128):
        torch.manual_seed(0)
        model = workload.build_model()
        x, y = workload.make_batch(batch)
        meter = _LiveTensorBytes()
        with meter:
            torch.nn.functional.cross_entropy(model(x), y).backward()
        peaks[batch] = meter.peak
    return (peaks[128] - peaks[32]) / 96


@pytest.mark.parametrize("ckpt", [None, False, True], ids=["plain", "non-reentrant", "reentrant"])
def test_activation_memory_matches_a_real_steps_peak_with_and_without_checkpointing(tmp_path, ckpt):
    workload = _workload(tmp_path, ckpt)
    analysis = analyze(workload)
    measured = _measured_bytes_per_sample(workload)
    # The old figure under checkpointing was the regions' saved inputs alone: 82 KB of 312-328 KB measured.
    assert 0.8 < analysis.activation_bytes_per_sample / measured < 1.15


@pytest.mark.parametrize("reentrant", [False, True])
def test_the_largest_regions_recompute_is_counted_by_hand(tmp_path, reentrant):
    plain = analyze(_workload(tmp_path, None))
    ckpt = analyze(_workload(tmp_path, reentrant))
    assert plain.recomputed_activation_bytes_per_sample is None
    # A block's recompute saves (fp32, per sample): the norm's output SEQ x D, its mean and rstd SEQ each, the up
    # projection's output and the GELU's output SEQ x 4D each; + one gradient of the largest, SEQ x 4D.
    by_hand = 4 * (SEQ * D + 2 * SEQ + 3 * SEQ * 4 * D)
    assert ckpt.recomputed_activation_bytes_per_sample == by_hand == 213_504
    # Saved in the forward: the 4 regions' inputs (SEQ x D), the input projection's input, the head's input
    # (D, the mean) and the loss's log-softmax (10) and target (int64): all of it but the recompute.
    saved = 4 * (5 * SEQ * D + D + 10) + 8
    assert ckpt.activation_bytes_per_sample == saved + by_hand
    assert ckpt.activation_bytes_per_sample < 0.5 * plain.activation_bytes_per_sample


def test_the_memory_fit_notes_checkpointing(tmp_path):
    ckpt = analyze(_workload(tmp_path, False))
    fit = memory_from_analysis(ckpt, 1024, 16.0, "fp32")
    assert ("Activation checkpointing: activations are the checkpointed regions' saved inputs + the largest "
            "region's recompute in backward (0.20 MiB/sample), an estimate.") in fit.notes
    plain = memory_from_analysis(analyze(_workload(tmp_path, None)), 1024, 16.0, "fp32")
    assert not any("checkpointing" in note for note in plain.notes)


@pytest.mark.parametrize("reentrant", [False, True], ids=["non-reentrant", "reentrant"])
def test_mfu_leaves_the_recompute_out(tmp_path, reentrant):
    """MFU counted the recompute's FLOPs (hardware FLOPs): the same model checkpointed, 13% slower a step, showed a
    higher MFU than without checkpointing. The analysis now records them and MFU takes them off."""
    import advisor
    from advisor.hardware.specs import load_gpu_specs, resolve_gpu
    from advisor.predictor.job import model_flops_utilization
    from advisor.schemas import Profile, WorkloadInfo

    plain = analyze(_workload(tmp_path, None))
    ckpt = analyze(_workload(tmp_path, reentrant))
    assert plain.recomputed_flops_per_sample is None
    # The step does the recompute (non-reentrant stops once backward has what it needs; reentrant runs it whole)
    # and is priced with it; the model's FLOPs are the plain model's, exactly.
    assert ckpt.recomputed_flops_per_sample == (16_777_216 if reentrant else 8_388_608)
    assert ckpt.flops_per_sample == plain.flops_per_sample + ckpt.recomputed_flops_per_sample
    a100 = resolve_gpu("A100-80GB", load_gpu_specs())
    at = {name: model_flops_utilization(a, 256, step, a100, "fp32", 1)
          for name, a, step in (("plain", plain, 0.010), ("ckpt", ckpt, 0.0113))}
    assert at["ckpt"] == pytest.approx(at["plain"] / 1.13)
    # End to end: predict prices the checkpointed step slower, and its MFU lower, not higher.
    job = {"dataset_size": 100_000, "epochs": 1, "batch_size": 256, "use_history": False, "target": "A100-80GB"}
    ests = {name: advisor.predict(Profile(workload=WorkloadInfo(name=name), analysis=a), **job)
            for name, a in (("plain", plain), ("ckpt", ckpt))}
    assert ests["ckpt"].step_seconds > ests["plain"].step_seconds
    assert ests["ckpt"].mfu < ests["plain"].mfu
