"""Shape-level analysis: FLOPs and bytes per operator on fake tensors, against hand-computed figures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from advisor.errors import PredictionError
from advisor.probe.analysis import analyze, classify, summarize
from advisor.schemas import at_batch
from advisor.workload import Workload, load_workload

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _ops(analysis, op: str, phase: str):
    return [r for r in analysis.ops if r.op == op and r.phase == phase]


def _total(analysis, phase: str, batch: int, what: str = "flops") -> float:
    return sum(r.count * at_batch(getattr(r, what), analysis.batch_sizes, batch)
               for r in analysis.ops if r.phase == phase)


def _linear_workload(n_in: int = 64, n_out: int = 32, optimizer=None) -> Workload:
    def make_batch(b):
        return torch.randn(b, n_in), torch.randn(b, n_out)

    return Workload(model=lambda: nn.Linear(n_in, n_out), make_batch=make_batch,
                    optimizer=optimizer or (lambda p: torch.optim.SGD(p, lr=0.1)), name="linear")


def test_linear_flops_forward_and_backward_hand_computed():
    n_in, n_out = 64, 32
    a = analyze(_linear_workload(n_in, n_out), batch_sizes=(2, 8))
    for b in (2, 8, 256):  # 256 is extrapolated, never traced
        assert _total(a, "forward", b) == 2 * b * n_in * n_out
        # The input needs no gradient: backward is the weight gradient only (one mm of the same size).
        assert _total(a, "backward", b) == 2 * b * n_in * n_out
    assert a.forward_flops_per_sample == 2 * n_in * n_out
    assert a.flops_per_sample == 4 * n_in * n_out
    assert a.param_count == a.trainable_param_count == n_in * n_out + n_out
    assert a.param_bytes == a.gradient_bytes == 4 * (n_in * n_out + n_out)
    assert a.optimizer == "SGD" and a.optimizer_state_bytes == 0  # plain SGD keeps no state


def test_two_layers_backward_is_twice_forward_for_the_inner_layer():
    d_in, hidden, d_out = 32, 48, 16

    def make_batch(b):
        return torch.randn(b, d_in), torch.randn(b, d_out)

    wl = Workload(model=lambda: nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out)),
                  make_batch=make_batch, name="mlp")
    a = analyze(wl)
    b = 8
    assert _total(a, "forward", b) == 2 * b * (d_in * hidden + hidden * d_out)
    # second layer: grad input + grad weight; first layer: grad weight only (its input needs no grad)
    assert _total(a, "backward", b) == 2 * b * (2 * hidden * d_out + d_in * hidden)


def test_linear_bytes_hand_computed():
    n_in, n_out = 64, 32
    a = analyze(_linear_workload(n_in, n_out))
    (addmm,) = _ops(a, "aten.addmm.default", "forward")
    for b, got in zip(a.batch_sizes, addmm.bytes, strict=True):
        # reads bias, x and W (the transposed view moves nothing); writes the output; fp32
        assert got == 4 * (n_out + b * n_in + n_in * n_out + b * n_out)
    assert addmm.kind == "matmul" and addmm.dtype == "float32" and addmm.count == 1


def test_conv_flops_hand_computed():
    cin, cout, k, hw = 3, 8, 3, 16

    def make_batch(b):
        return torch.randn(b, cin, hw, hw), torch.randint(0, 10, (b,))

    wl = Workload(model=lambda: nn.Sequential(nn.Conv2d(cin, cout, k, padding=1), nn.Flatten(),
                                              nn.Linear(cout * hw * hw, 10)), make_batch=make_batch)
    a = analyze(wl)
    (conv,) = _ops(a, "aten.convolution.default", "forward")
    assert conv.kind == "conv"
    for b, got in zip(a.batch_sizes, conv.flops, strict=True):
        assert got == 2 * b * cout * hw * hw * cin * k * k
    (back,) = _ops(a, "aten.convolution_backward.default", "backward")
    # weight gradient only (the image needs no gradient): the same MACs as the forward
    assert back.flops == conv.flops


def test_identical_ops_are_grouped_with_a_count():
    def make_batch(b):
        return torch.randn(b, 16), torch.randn(b, 16)

    wl = Workload(model=lambda: nn.Sequential(*[nn.Linear(16, 16) for _ in range(3)]), make_batch=make_batch)
    a = analyze(wl)
    (addmm,) = _ops(a, "aten.addmm.default", "forward")
    assert addmm.count == 3
    assert summarize(a, 8)["matmul"]["count"] >= 3 + 5  # 3 forward, 2 grad-input + 3 grad-weight mm
    opt = [r for r in a.ops if r.phase == "optimizer"]
    assert opt and all(r.kind == "optimizer" for r in opt)


def test_dict_inputs_target_none_and_optimizer_state():
    class SelfLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 16)
            self.head = nn.Linear(16, 4)

        def forward(self, ids, labels):
            return nn.functional.cross_entropy(self.head(self.emb(ids).mean(1)), labels)

    def make_batch(b):
        return {"ids": torch.randint(0, 100, (b, 10)), "labels": torch.randint(0, 4, (b,))}, None

    a = analyze(Workload(model=SelfLoss, make_batch=make_batch))  # default optimizer: AdamW
    params = 100 * 16 + 16 * 4 + 4
    assert a.optimizer == "AdamW"
    # exp_avg + exp_avg_sq per parameter, plus a 4-byte step counter per tensor
    assert 8 * params <= a.optimizer_state_bytes <= 8 * params + 4 * 3
    assert {r.kind for r in a.ops} >= {"embedding", "matmul", "optimizer"}
    assert a.activation_bytes_per_sample > 0


def test_sgd_momentum_state_is_one_copy_of_the_parameters():
    wl = _linear_workload(optimizer=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))
    a = analyze(wl)
    assert a.optimizer_state_bytes == a.param_bytes


def test_bf16_analysis_halves_matmul_bytes_and_records_the_dtype():
    a32 = analyze(_linear_workload(256, 256))
    a16 = analyze(_linear_workload(256, 256), precision="bf16")
    (mm32,) = _ops(a32, "aten.addmm.default", "forward")
    (mm16,) = _ops(a16, "aten.addmm.default", "forward")
    assert mm16.dtype == "bfloat16" and mm32.dtype == "float32"
    assert mm16.flops == mm32.flops
    assert mm16.bytes[1] == pytest.approx(mm32.bytes[1] / 2)
    casts = _ops(a16, "aten._to_copy.default", "forward")
    assert casts  # autocast's casts of the input and the weights are accounted
    # the optimizer keeps fp32 master weights
    assert all(r.dtype == "float32" for r in a16.ops if r.phase == "optimizer")


def test_attention_is_one_fused_kernel_forward_and_backward():
    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(32, 96)

        def forward(self, x):
            q, k, v = self.proj(x).view(x.shape[0], x.shape[1], 3, 4, 8).permute(2, 0, 3, 1, 4)
            return nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.1).sum()

    def make_batch(b):
        return torch.randn(b, 20, 32), None

    a = analyze(Workload(model=Attn, make_batch=make_batch))
    (fwd,) = _ops(a, "aten._scaled_dot_product_efficient_attention.default", "forward")
    (bwd,) = _ops(a, "aten._scaled_dot_product_efficient_attention_backward.default", "backward")
    b = a.batch_sizes[1]
    assert fwd.flops[1] == 2 * 2 * b * 4 * 20 * 20 * 8  # QK^T and PV
    assert bwd.flops[1] == 2.5 * fwd.flops[1]
    assert not _ops(a, "aten.bmm.default", "forward")  # no unfused attention matrix


def test_resnet50_at_batch_256_in_seconds():
    wl = load_workload(EXAMPLES / "resnet50.py")
    start = time.perf_counter()
    a = analyze(wl)
    elapsed = time.perf_counter() - start
    assert a.param_count == 25_557_032
    # torch's counter: 2 FLOPs per multiply-add; ResNet-50 is 4.09 GMACs per 224x224 image
    assert a.forward_flops_per_sample == pytest.approx(8.18e9, rel=0.05)
    assert a.flops_per_sample == pytest.approx(3 * a.forward_flops_per_sample, rel=0.05)
    assert sum(r.count * at_batch(r.flops, a.batch_sizes, 256) for r in a.ops) == pytest.approx(
        256 * a.flops_per_sample, rel=1e-6)
    assert a.optimizer == "SGD" and a.optimizer_state_bytes == a.param_bytes  # momentum buffer
    assert elapsed < 60  # seconds on a slow shared CI core; ~3 s on a laptop


def test_bert_base_analysis_counts_the_encoder(monkeypatch):
    monkeypatch.setenv("ADVISOR_BERT_SIZE", "base")
    a = analyze(load_workload(EXAMPLES / "bert_squad.py"))
    assert a.param_count == 108_893_186
    # ~6 x params(encoder) x tokens + attention: ~210-215 GFLOP per 384-token sequence, fwd + bwd
    assert 200e9 < a.flops_per_sample < 230e9
    assert os.environ["ADVISOR_BERT_SIZE"] == "base"


def test_untraceable_model_raises_prediction_error():
    class DataDependent(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            if self.lin(x).sum().item() > 0:  # needs real data
                return self.lin(x)
            return -self.lin(x)

    wl = Workload(model=DataDependent, make_batch=lambda b: (torch.randn(b, 4), torch.randn(b, 4)))
    with pytest.raises(PredictionError) as err:
        analyze(wl)
    assert "Fix:" in str(err.value)


def test_make_batch_shapes_that_vary_between_calls_are_a_clear_prediction_error():
    """Two draws of a random length gave flops_per_sample from 2.4e6 to 4.7e8, or a pydantic ValidationError (a
    negative per-sample difference) blamed on .item()."""
    lengths = iter([512, 8])
    wl = Workload(model=lambda: nn.Sequential(nn.Embedding(100, 16), nn.Linear(16, 4)),
                  make_batch=lambda b: (torch.randint(0, 100, (b, next(lengths))), None),
                  loss_fn=lambda out, target: out.mean())
    with pytest.raises(PredictionError) as err:
        analyze(wl)
    assert err.value.message.startswith("make_batch(2) returned inputs of shape (2, 512) and make_batch(8) (8, 8): "
                                        "they differ by more than the batch size"), err.value.message
    assert "Fix: return the same shapes at every batch size" in err.value.hint and ".item()" not in err.value.hint
    # A flattened batch x length dimension grows with the batch: not a varying shape
    flat = Workload(model=lambda: nn.Linear(16, 4), make_batch=lambda b: (torch.randn(b * 32, 16), None),
                    loss_fn=lambda out, target: out.mean())
    assert analyze(flat).flops_per_sample > 0


@pytest.mark.parametrize("draw", ["random", "torch"])
def test_a_random_length_drawn_before_the_data_is_the_same_at_both_traced_batch_sizes(draw):
    """make_batch drawing a sequence length with no seed: each traced call starts from the same random state, so
    both batch sizes draw the same length and the analysis prices one length, not two draws' difference. The
    caller's random state is put back."""
    import random

    def make_batch(b):
        length = (random.choice([8, 64, 512]) if draw == "random"
                  else int(torch.randint(0, 3, ()).item()) and 64 or 512)
        return torch.randint(0, 100, (b, length)), None

    wl = Workload(model=lambda: nn.Sequential(nn.Embedding(100, 16), nn.Linear(16, 4)), make_batch=make_batch,
                  loss_fn=lambda out, target: out.mean())
    random.seed(123)
    torch.manual_seed(123)
    before = (random.random(), torch.rand(()).item())
    random.seed(123)
    torch.manual_seed(123)
    analysis = analyze(wl)
    assert analysis.flops_per_sample > 0
    assert (random.random(), torch.rand(()).item()) == before
    for _ in range(3):  # the same answer each time, whatever the draws
        assert analyze(wl).flops_per_sample == analysis.flops_per_sample


def test_a_step_that_does_less_work_at_the_larger_batch_is_a_clear_prediction_error():
    class Shrinks(nn.Module):
        def __init__(self):
            super().__init__()
            self.big, self.small = nn.Linear(64, 64), nn.Linear(64, 1)

        def forward(self, x):  # shape-dependent control flow: fewer FLOPs at batch 8 than at 2
            return self.small(x) if x.shape[0] > 4 else self.big(self.big(x))

    wl = Workload(model=Shrinks, make_batch=lambda b: (torch.randn(b, 64), None),
                  loss_fn=lambda out, target: out.mean())
    with pytest.raises(PredictionError) as err:
        analyze(wl)
    assert "the training step traced at batch size 8 does fewer FLOPs than at 2" in err.value.message
    assert "ValidationError" not in str(err.value)


def test_broken_build_model_raises_prediction_error():
    def build():
        raise RuntimeError("boom")

    with pytest.raises(PredictionError, match="boom"):
        analyze(Workload(model=build, make_batch=lambda b: (torch.randn(b, 4), None)))


def test_bad_arguments():
    with pytest.raises(PredictionError):
        analyze(_linear_workload(), precision="int8")
    with pytest.raises(PredictionError):
        analyze(_linear_workload(), batch_sizes=(8, 2))


def test_classify():
    assert classify("mm") == "matmul" and classify("_scaled_dot_product_flash_attention") == "matmul"
    assert classify("convolution_backward") == "conv"
    assert classify("native_batch_norm_backward") == "norm" and classify("native_layer_norm") == "norm"
    assert classify("_softmax") == "softmax" and classify("embedding_dense_backward") == "embedding"
    assert classify("relu_", torch.ops.aten.relu_.default.tags) == "elementwise"
    assert classify("sum") == "reduction" and classify("_to_copy") == "copy"


def test_the_package_and_its_op_tables_import_without_torch():
    code = "import sys, advisor.probe.analysis, advisor.probe.analysis.ops; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_model_that_needs_real_data_to_build_is_built_for_real_then_faked():
    class NeedsRealInit(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(8, 8)
            self.scale = float(self.lin.weight.abs().max().item())  # data-dependent: fails on fake tensors

        def forward(self, x):
            return self.lin(x) * self.scale

    wl = Workload(model=NeedsRealInit, make_batch=lambda b: (torch.randn(b, 8), torch.randn(b, 8)))
    a = analyze(wl)
    assert a.param_count == 8 * 8 + 8 and a.forward_flops_per_sample == 2 * 8 * 8


def test_a_module_object_is_analysed_on_a_copy_and_left_untouched():
    model = nn.Linear(8, 4)
    before = model.weight.detach().clone()
    a = analyze(Workload(model=model, make_batch=lambda b: (torch.randn(b, 8), torch.randn(b, 4))))
    assert a.param_count == 36
    assert torch.equal(model.weight, before) and model.weight.grad is None
    assert not type(model.weight).__name__.startswith("Fake")


def test_a_batch_the_model_cannot_take_raises_without_torchs_traceback_log(capfd):
    # torch logs a failed fake op's whole traceback before raising; the user gets advisor's one message instead.
    workload = Workload(model=lambda: nn.Linear(4, 2), make_batch=lambda b: (torch.randn(b, 7), torch.zeros(b, 2)))
    with pytest.raises(PredictionError) as err:
        analyze(workload)
    assert "a and b must have same reduction dim" in err.value.message
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "fake_tensor.py" not in captured.err, captured.err


def test_layer_norm_backward_reads_its_gradient_and_input_twice():
    """PyTorch's CUDA LayerNorm backward (aten/src/ATen/native/cuda/layer_norm_kernel.cu,
    ``LayerNormBackwardKernelImplInternal``) runs the input-gradient kernel and then the gamma/beta kernel, each
    reading dY and X: two reads of both, one write of dX, plus the row statistics and the affine parameters."""
    rows, width = 16, 256

    def make_batch(b):
        return torch.randn(b, rows, width, requires_grad=True), torch.randn(b, rows, width)

    a = analyze(Workload(model=lambda: nn.LayerNorm(width), make_batch=make_batch,
                         optimizer=lambda p: torch.optim.SGD(p, lr=0.1), name="ln"), batch_sizes=(2, 8))
    (bwd,) = _ops(a, "aten.native_layer_norm_backward.default", "backward")
    for b, nbytes in zip(a.batch_sizes, bwd.bytes, strict=True):
        activations = 4 * b * rows * width  # one fp32 tensor of the batch
        stats = 2 * 4 * b * rows  # mean and rstd, fp32
        params = 4 * 4 * width  # weight and bias read, their two gradients written
        assert nbytes == 2 * activations + 2 * activations + activations + stats + params


def _sequential(*layers, width: int = 64, rows: int = 8) -> Workload:
    def make_batch(b):
        return torch.randn(b, rows, width), torch.randn(b, rows, width)

    return Workload(model=lambda: nn.Sequential(*layers), make_batch=make_batch,
                    optimizer=lambda p: torch.optim.SGD(p, lr=0.1), name="seq")


class _Softmax(nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)


def test_bf16_softmax_reads_an_fp32_copy_where_fp16_reads_its_input():
    """ATen's softmax(input, dim, dtype) (aten/src/ATen/native/SoftMax.cpp) reads a CUDA Half input in its one
    half_to_float kernel, and casts any other input to fp32 first: under bf16 autocast a bf16 -> fp32 copy,
    then an fp32 softmax (the bfloat16 copy and softmax_warp_forward<float, float, float> of the A40 trace in
    bench/kernel_trace_a40.py)."""
    rows, width = 8, 64

    def priced(precision):
        a = analyze(_sequential(nn.Linear(width, width), _Softmax(), nn.Linear(width, width)),
                    precision=precision, batch_sizes=(2, 8))
        (sm,) = _ops(a, "aten._softmax.default", "forward")
        (back,) = _ops(a, "aten._softmax_backward_data.default", "backward")
        upcasts = [r for r in _ops(a, "aten._to_copy.default", "forward") if r.dtype == "float32"]
        return a, sm, back, upcasts

    a, sm16, back16, up16 = priced("fp16")
    n = a.batch_sizes[1] * rows * width
    assert sm16.bytes[1] == n * 2 + n * 4
    # backward reads the fp32 gradient and output and writes the input's gradient in the input's dtype
    assert back16.bytes[1] == n * 4 + n * 4 + n * 2 and back16.dtype == "float16"
    a, smbf, backbf, upbf = priced("bf16")
    assert smbf.bytes[1] == n * 4 + n * 4
    assert backbf.bytes[1] == n * 4 + n * 4 + n * 4 and backbf.dtype == "float32"
    # the loss (MSE, autocast's fp32 list) upcasts the last linear's output under both; bf16 adds the softmax's
    assert sum(r.count for r in upbf) == sum(r.count for r in up16) + 1
    assert sum(r.count * r.bytes[1] for r in upbf) == sum(r.count * r.bytes[1] for r in up16) + n * 2 + n * 4


def test_the_gradient_of_an_fp32_activation_is_fp32_in_backward():
    """Autograd gives a tensor's gradient the tensor's dtype: the fp32 output of LayerNorm (autocast's fp32 list)
    goes through dropout in fp32, and its gradient, cast back from the bf16 matmul's, is fp32 too. The fake trace
    runs in fp32 with no such cast: the recorder marks the gradient as backward reaches it."""
    rows, width = 8, 64
    a = analyze(_sequential(nn.LayerNorm(width), nn.Dropout(0.1), nn.Linear(width, width)), precision="bf16",
                batch_sizes=(2, 8))
    (fwd,) = _ops(a, "aten.native_dropout.default", "forward")
    (bwd,) = _ops(a, "aten.native_dropout_backward.default", "backward")
    n = a.batch_sizes[1] * rows * width
    assert fwd.bytes[1] == n * 4 + n * 4 + n  # fp32 in and out, a bool mask
    assert bwd.bytes[1] == n * 4 + n + n * 4  # the fp32 gradient and the mask in, an fp32 gradient out
    assert bwd.dtype == "float32"


class _Upcast(nn.Module):
    def forward(self, x):
        return x.float() * 2.0


def test_an_explicit_upcast_of_a_16_bit_activation_is_a_copy_forward_and_backward():
    """``x.float()`` of a bf16 activation is a copy kernel on the GPU (Megatron's bias-dropout-add,
    ``x.to(residual.dtype)``; its cross-entropy's ``logits.float()``), and its backward casts the gradient back;
    in the fp32 trace the call is a no-op, so the recorder runs it as the copy."""
    rows, width = 8, 64
    a = analyze(_sequential(nn.Linear(width, width), _Upcast()), precision="bf16", batch_sizes=(2, 8))
    n = a.batch_sizes[1] * rows * width
    fwd = [r for r in _ops(a, "aten._to_copy.default", "forward") if r.dtype == "float32"]
    bwd = [r for r in _ops(a, "aten._to_copy.default", "backward") if r.dtype == "bfloat16"]
    assert [r.bytes[1] for r in fwd] == [n * 2 + n * 4]
    assert [r.bytes[1] for r in bwd] == [n * 4 + n * 2]
    (mul,) = _ops(a, "aten.mul.Tensor", "forward")
    assert mul.bytes[1] == n * 4 + n * 4  # after the copy the product reads and writes fp32


TRANSFORMER_WORKLOAD = """\
import torch
from torch import nn

def build_model():
    layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True)
    return nn.Sequential(nn.Embedding(100, 32), nn.TransformerEncoder(layer, num_layers=2), nn.Flatten(),
                         nn.Linear(32 * 8, 10))

def make_batch(batch_size):
    return torch.randint(0, 100, (batch_size, 8)), torch.randint(0, 10, (batch_size,))
"""


def test_a_transformer_encoder_prints_no_fake_tensor_warning_and_others_still_show(tmp_path):
    """torch's "Accessing the data pointer of FakeTensor ... almost definitely a bug in your code" came from
    advisor's tracing of a stock nn.TransformerEncoder; torch warns once a process, hence a fresh one."""
    path = tmp_path / "tx.py"
    path.write_text(TRANSFORMER_WORKLOAD)
    code = ("import warnings\nfrom advisor.probe.analysis import analyze\nfrom advisor.workload import load_workload\n"
            f"a = analyze(load_workload({str(path)!r}))\nassert a.param_count > 0\n"
            "warnings.warn('a later warning of the caller')\n")
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "FakeTensor" not in done.stderr, done.stderr
    assert "a later warning of the caller" in done.stderr  # the filter ends with the analysis
