"""``predict`` of a workload whose settings come from code advisor does not read (a star import of a config
module, nanoGPT's ``exec(open('configurator.py').read())``, a function setting one with ``global`` at import):
the probe child reports the module's values, which are the job's, and a note says where each came from."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from advisor.cli.app import build_app

MODEL = textwrap.dedent("""
    import torch
    from torch import nn
    {head}
    def build_model():
        return nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 10))
    def make_batch(b):
        return torch.randn(b, 256), torch.randint(0, 10, (b,))
""")
CONFIG = textwrap.dedent("""
    DATASET_SIZE = 100_000
    EPOCHS = 1
    BATCH_SIZE = 64
    PRECISION = "bf16"
    COMPILE = True
    GRAD_ACCUM_STEPS = 4
    EVAL_EVERY = 100
    EVAL_STEPS = 50
""")
FIELDS = ("dataset_size", "epochs", "batch_size", "precision", "compiled", "grad_accum_steps", "eval_every",
          "eval_steps")


def _predict(path) -> dict:
    result = CliRunner().invoke(build_app(), ["predict", str(path), "--gpu", "A100-80GB", "--json", "--no-save"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("head", ["from train_config import *", "exec(open('train_config.py').read())"])
def test_settings_from_a_config_module_are_the_jobs(tmp_path, monkeypatch, head):
    monkeypatch.chdir(tmp_path)  # exec opens the file from the working directory, as nanoGPT's does
    (tmp_path / "train_config.py").write_text(CONFIG)
    (tmp_path / "model.py").write_text(MODEL.format(head=head))
    out = _predict(tmp_path / "model.py")
    assert tuple(out[k] for k in FIELDS) == (100_000, 1, 64, "bf16", True, 4, 100, 50)
    assert out["eval_seconds"] > 0
    for const, value in (("PRECISION", "'bf16'"), ("COMPILE", "True"), ("GRAD_ACCUM_STEPS", "4"),
                         ("EVAL_EVERY", "100"), ("EVAL_STEPS", "50")):
        assert any(f"{const} = ... (may be set by `{head}` at line 4) could not be read without running the file: "
                   f"the module's value {value}, which the probe child reported, is the job's" in n
                   for n in out["notes"]), const


def test_a_setting_a_function_sets_at_import_is_the_jobs(tmp_path):
    head = ("DATASET_SIZE = 1000\nEPOCHS = 1\nBATCH_SIZE = 16\ndef _setup():\n    global GRAD_ACCUM_STEPS\n"
            "    GRAD_ACCUM_STEPS = 3\n_setup()")
    (tmp_path / "model.py").write_text(MODEL.format(head=head))
    out = _predict(tmp_path / "model.py")
    assert out["grad_accum_steps"] == 3
    assert any("GRAD_ACCUM_STEPS is not set in the file's text, but the module held 3 once imported (code that ran "
               "at import set it): 3, which the probe child reported, is the job's." in n for n in out["notes"])
