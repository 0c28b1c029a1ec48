"""An operator whose output size depends on the data (pack_padded_sequence, nonzero, masked_select, unique) fails
the fake-tensor analysis: the error names it and gives a fix that applies, not the generic one about ``.item()``
(which a packed LSTM's forward does not have)."""

from __future__ import annotations

import textwrap

import pytest

import advisor
from advisor.probe.analysis import analyze
from advisor.schemas import Profile, WorkloadInfo
from advisor.schemas.missing_analysis import failed_note
from advisor.workload import load_workload

# A 2-layer LSTM over packed variable-length sequences (the PyTorch idiom), and small forwards calling the others.
LSTM = textwrap.dedent('''
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 8)
            self.rnn = nn.LSTM(8, 16, batch_first=True, num_layers=2)
            self.out = nn.Linear(16, 3)

        def forward(self, x, lengths):
            p = pack_padded_sequence(self.emb(x), lengths, batch_first=True, enforce_sorted=False)
            _, (h, _) = self.rnn(p)
            return self.out(h[-1])

    def build_model():
        return M()

    def make_batch(b):
        return (torch.randint(0, 100, (b, 12)), torch.randint(2, 13, (b,))), torch.randint(0, 3, (b,))
''')
MASKED = textwrap.dedent('''
    import torch
    from torch import nn

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(6, 1)

        def forward(self, x):
            return self.lin(x).squeeze(-1)[{expr}].sum()

    def build_model():
        return M()

    def make_batch(b):
        return torch.randn(b, 6), None
''')
ITEM = MASKED.format(expr="int(x.sum().item() > 0)")  # a Python int from the data: .item()


def _analysis_error(tmp_path, text: str) -> advisor.PredictionError:
    path = tmp_path / "w.py"
    path.write_text(text)
    with pytest.raises(advisor.PredictionError) as err:
        analyze(load_workload(path))
    return err.value


def test_a_packed_lstm_names_pack_padded_sequence_and_says_to_pad(tmp_path):
    err = _analysis_error(tmp_path, LSTM)
    assert err.message == (
        f"could not analyse {tmp_path / 'w.py'} with fake tensors: `pack_padded_sequence` gives an output whose size "
        "depends on the data (aten._pack_padded_sequence), so the shape analysis, which prices GPUs not probed "
        "here, cannot size the step after it.")
    assert err.hint == (
        "Fix: GPU prices need a shape-static forward: pad instead of pack to price GPUs (cuDNN runs the padded "
        "length), or probe on a GPU (a GPU probed on its own machine is priced from its timed steps). Probes on "
        "real devices still work without it.")
    assert ".item()" not in err.message + err.hint
    # The profile's note and predict's error for a GPU carry the fix that applies.
    failed = Profile(workload=WorkloadInfo(name="w"), notes=[failed_note(f"{err.message} {err.hint}")])
    with pytest.raises(advisor.PredictionError) as gpu:
        advisor.predict(failed, target="A100-80GB", dataset_size=1000, epochs=1, batch_size=64, use_history=False)
    assert "`pack_padded_sequence` gives an output whose size depends on the data" in gpu.value.message
    assert gpu.value.hint.startswith("Fix: GPU prices need a shape-static forward: pad instead of pack")


@pytest.mark.parametrize(("expr", "named"), [
    ("self.lin(x).squeeze(-1) > 0", "`nonzero (torch.nonzero, torch.where(mask) with one argument, or boolean "
                                    "indexing x[mask])`"),
    ("torch.unique(x[:, 0]).long() % x.shape[0]", "`unique (torch.unique)`"),
])
def test_other_data_dependent_sizes_are_named(tmp_path, expr, named):
    err = _analysis_error(tmp_path, MASKED.format(expr=expr))
    assert named in err.message and "gives an output whose size depends on the data" in err.message
    assert err.hint.startswith("Fix: GPU prices need a shape-static forward: ")


def test_item_keeps_the_generic_fix(tmp_path):
    err = _analysis_error(tmp_path, ITEM)
    assert "DataDependentOutputException" in err.message
    assert "avoid data-dependent Python in forward (.item()" in err.hint
