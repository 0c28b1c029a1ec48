"""A job whose epoch ends with a batch of the size at which the probe's step raised (a BatchNorm1d at one sample):
the probe timed from 2 and said the last batch "raises the same" in general, but a prediction of a job of
8 x 2 + 1 samples, which would crash at the end of its first epoch, said nothing of that job."""

from __future__ import annotations

import json

import pytest

import advisor
from advisor.predictor.caveats import caveats
from advisor.schemas.small_batch import last_batch_raises_note

BATCH_NORM = """
import torch
BATCH_SIZE = 8
DATASET_SIZE = 64
EPOCHS = 1
def build_model():
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(),
                               torch.nn.Linear(32, 4))
def make_batch(batch_size):
    return torch.randn(batch_size, 16), torch.randint(0, 4, (batch_size,))
"""


def test_the_note_names_the_jobs_last_batch():
    failed = {1: "the training step raised ValueError: Expected more than 1 value per channel when training"}
    note = last_batch_raises_note(failed, 20_001, 100)
    assert note.startswith("this job's epochs end with a batch of 1 sample (20,001 = 200 x 100 + 1), a batch "
                           "size at which the model raised (the training step raised ValueError: Expected")
    assert "fail at the end of its first epoch unless its DataLoader drops that batch (drop_last=True" in note
    # printed under a --gpus 1,2,4 table too: split over K GPUs, one of them still takes the sample (it said
    # "trained on one device", as if K GPUs ran it)
    assert ("(the training step raised ValueError: Expected more than 1 value per channel when training): on one "
            "device or split over GPUs (one GPU takes that sample), the job would fail at the end") in note
    assert "trained on one device" not in note
    # a larger last batch (a ladder's size) is shared out over K GPUs, a size the note does not judge
    assert ": trained on one device (split over GPUs, each takes a share of it: not judged here), the job would " \
           "fail" in last_batch_raises_note({3: "e"}, 20_003, 100)
    assert "Fix: drop_last=True, or a dataset size" in note
    assert caveats([note]) == [note]  # printed beside the machine recommend chooses
    assert last_batch_raises_note(failed, 20_000, 100) is None  # a whole last batch
    assert last_batch_raises_note(failed, 20_002, 100) is None  # a last batch of 2: not the size that raised
    assert last_batch_raises_note({}, 20_001, 100) is None


@pytest.fixture(scope="module")
def batch_norm_profile(tmp_path_factory):
    path = tmp_path_factory.mktemp("bn") / "bn.py"
    path.write_text(BATCH_NORM)
    return advisor.profile(str(path), devices=["cpu"], probe_seconds=4)


@pytest.fixture(scope="module")
def analysed_batch_norm(tmp_path_factory):
    """The BatchNorm1d model's profile without a device: its shape analyses only (a GPU is priced from them)."""
    path = tmp_path_factory.mktemp("bn_analysis") / "bn.py"
    path.write_text(BATCH_NORM)
    return advisor.profile(str(path), devices=[], probe_seconds=4)


def _raises(est) -> list[str]:
    return [n for n in est.notes if n.startswith("this job's epochs end with a batch of")]


def test_a_prediction_of_such_a_job_says_it_would_fail(batch_norm_profile):
    [cpu] = batch_norm_profile.devices
    assert cpu.small_batch_error is not None and cpu.small_batch_error.batch_size == 1
    crash = advisor.predict(batch_norm_profile, dataset_size=17, epochs=1, batch_size=8, target="cpu",
                            save=False, use_history=False)
    [note] = _raises(crash)
    assert "(17 = 2 x 8 + 1)" in note
    # the same on a GPU priced from the analysis: the model raises on any device
    gpu = advisor.predict(batch_norm_profile, dataset_size=17, epochs=1, batch_size=8, target="A100-80GB",
                          save=False, use_history=False)
    assert _raises(gpu) == [note]
    whole = advisor.predict(batch_norm_profile, dataset_size=16, epochs=1, batch_size=8, target="cpu",
                            save=False, use_history=False)
    assert _raises(whole) == []


def test_recommend_warns_of_it_whichever_machine_it_chose(batch_norm_profile):
    rec = advisor.recommend(batch_norm_profile, dataset_size=17, epochs=1, batch_size=8, save=False)
    [warned] = [w for w in rec.verdict.warnings if w.startswith("this job's epochs end with a batch of 1 sample")]
    assert "(17 = 2 x 8 + 1)" in warned
    whole = advisor.recommend(batch_norm_profile, dataset_size=16, epochs=1, batch_size=8, save=False)
    assert not [w for w in whole.verdict.warnings if "epochs end with a batch" in w]


def test_the_analysis_finds_it_where_the_ladder_never_tries_one_sample(analysed_batch_norm):
    # At --batch-size 100 the ladder times 12, 25, 50, 100: it never ran batch size 1, so a job of 2,001 samples
    # (20 x 100 + 1) was priced with no word that its last batch raises. The shape analysis now runs the model's
    # forward at 1 on fake tensors where it has a BatchNorm in training mode.
    prof = analysed_batch_norm
    assert prof.analysis.one_sample_error.startswith(
        "the forward at batch size 1 raised ValueError: Expected more than 1 value per channel when training")
    # checked once (the bf16 analysis of the same model ran it again for the same answer, 1.6-8.5 s on a slow model:
    # test_runner's test_the_bf16_analysis_does_not_check_batch_1_again), and given to the bf16 analysis as made
    assert prof.bf16_analysis is not None and prof.bf16_analysis.one_sample_error == prof.analysis.one_sample_error
    est = advisor.predict(prof, dataset_size=2001, epochs=1, batch_size=100, target="A100-80GB", save=False,
                          use_history=False)
    [note] = _raises(est)
    assert "(2,001 = 20 x 100 + 1), a batch size at which the model raised (the forward at batch size 1" in note
    assert _raises(advisor.predict(prof, dataset_size=2002, epochs=1, batch_size=100, target="A100-80GB",
                                   save=False, use_history=False)) == []


def test_a_model_that_takes_one_sample_has_no_error(tmp_path):
    path = tmp_path / "conv.py"  # BatchNorm2d over 8 x 8 planes: 64 values a channel at one sample
    path.write_text(BATCH_NORM.replace("torch.nn.Linear(16, 32), torch.nn.BatchNorm1d(32)",
                                       "torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.BatchNorm2d(32), "
                                       "torch.nn.Flatten(), torch.nn.Linear(2048, 32)")
                    .replace("torch.randn(batch_size, 16)", "torch.randn(batch_size, 3, 8, 8)"))
    prof = advisor.profile(str(path), devices=[], probe_seconds=4)
    assert prof.analysis is not None and prof.analysis.one_sample_error is None



ODD_AT_ONE = """
import torch
class Odd(Exception):
    def __str__(self):
        raise RuntimeError("no str")
class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.bn = torch.nn.Linear(16, 32), torch.nn.BatchNorm1d(32)
    def forward(self, x):
        if x.shape[0] == 1:
            raise Odd()
        return self.bn(self.a(x))
def build_model():
    return Model()
def make_batch(batch_size):
    return torch.randn(batch_size, 16), torch.randn(batch_size, 32)
"""


def test_an_error_at_one_sample_whose_text_raises_keeps_the_analysis(tmp_path):
    # The forward's exception at batch size 1 had a __str__ that raised: the whole analysis was lost ("could not
    # analyse ... with fake tensors: RuntimeError: no str") for a model that traces at 2 and 8.
    from advisor.probe.analysis import analyze
    from advisor.workload import load_workload

    path = tmp_path / "odd.py"
    path.write_text(ODD_AT_ONE)
    analysis = analyze(load_workload(path))
    assert analysis.one_sample_error.startswith("the forward at batch size 1 raised Odd: <")


def test_a_nul_in_the_error_s_class_name_does_not_fail_the_profile(tmp_path):
    # A metaclass gave the exception raised at batch size 1 a name with a NUL: the profile failed, "the probe
    # failed unexpectedly: ValidationError: ... analysis.one_sample_error contains a NUL character".
    path = tmp_path / "nul.py"
    path.write_text(ODD_AT_ONE.replace(
        'class Odd(Exception):\n    def __str__(self):\n        raise RuntimeError("no str")',
        'class Meta(type):\n    @property\n    def __name__(cls):\n        return "Bad\\x00Err"\n'
        'class Odd(Exception, metaclass=Meta):\n    pass'))
    prof = advisor.profile(str(path), devices=[], probe_seconds=4)
    assert prof.analysis.one_sample_error.startswith("the forward at batch size 1 raised Bad\\x00Err: ")


def test_k_gpus_that_split_the_last_batch_to_one_sample_each_are_told(analysed_batch_norm):
    # review3: --gpus 1,2 of a job of 18 samples at batch 8 gave no note on any row, though its last batch of 2,
    # split over 2 GPUs as advisor prices it, leaves each GPU one sample, at which the BatchNorm raises.
    from advisor.schemas.small_batch import split_last_batch_note

    prof = analysed_batch_norm
    two = advisor.predict(prof, dataset_size=18, epochs=1, batch_size=8, target=advisor.Target.gpu("A100-80GB", 2),
                          save=False, use_history=False)
    [note] = _raises(two)
    assert note.startswith("this job's epochs end with a batch of 2 samples (18 = 2 x 8 + 2), which 2 GPUs split "
                           "one sample each, a batch size at which the model raised (the forward at batch size 1")
    one = advisor.predict(prof, dataset_size=18, epochs=1, batch_size=8, target="A100-80GB", save=False,
                          use_history=False)
    assert _raises(one) == []  # one GPU takes the 2 samples whole
    # a bf16 row, priced from the bf16 analysis, which skips the batch-1 check (run once, in the first): said too
    half = advisor.predict(prof, dataset_size=18, epochs=1, batch_size=8, precision="bf16", save=False,
                           target=advisor.Target.gpu("A100-80GB", 2), use_history=False)
    assert _raises(half) == [note]
    assert split_last_batch_note("e", 19, 8, 2) is None  # 3 samples over 2 GPUs: 2 on a GPU
    # 2 samples over 4 GPUs: not "one sample each" (two GPUs get none)
    assert "(18 = 2 x 8 + 2), which 4 GPUs split one sample on each of 2 of them, a batch size" in \
        split_last_batch_note("e", 18, 8, 4)
    assert "which 4 GPUs split one sample each" in split_last_batch_note("e", 20, 8, 4)
    assert split_last_batch_note("e", 17, 8, 2) is None  # a last batch of 1: the job's own note says it
    assert split_last_batch_note(None, 18, 8, 2) is None


def test_a_job_whose_every_step_gives_a_gpu_one_sample_is_told(analysed_batch_norm):
    # --batch-size 4 on 4 GPUs (or 1 on one) of a BatchNorm1d model: every step gives a GPU one sample, at which the
    # model raised, and the estimate said nothing of it.
    from advisor.schemas.small_batch import step_raises_note

    prof = analysed_batch_norm
    four = advisor.predict(prof, dataset_size=66, epochs=1, batch_size=4, target=advisor.Target.gpu("A100-80GB", 4),
                           save=False, use_history=False)
    [note] = [n for n in four.notes if "fail at its first step" in n]
    assert note.startswith("each step of this job (--batch-size 4) gives each of its 4 GPUs one sample, a batch "
                           "size at which the model raised (the forward at batch size 1 raised ValueError")
    assert note.endswith("Fix: --batch-size 8 or more (2 samples per GPU), or fewer GPUs.")
    assert caveats([note]) == [note]
    assert _raises(four) == []  # its last batch of 2, one a GPU, is the same failure: said once
    one = advisor.predict(prof, dataset_size=64, epochs=1, batch_size=1, target="A100-80GB", save=False,
                          use_history=False)
    assert [n for n in one.notes if "fail at its first step" in n] == [step_raises_note(
        prof.analysis.one_sample_error, 1, 1)]
    assert step_raises_note("e", 8, 4) is None and step_raises_note(None, 4, 4) is None


def test_a_profile_file_written_before_gives_its_bf16_rows_the_note_from_one_analysis(analysed_batch_norm, tmp_path):
    # Profile.analysed_for copied the bf16 analysis on each call to give it the first analysis's batch-1 error,
    # dropping what the copy had worked out (its derived cache). The bf16 analysis now has it as the profile is made
    # or read, a file written before this (whose bf16 analysis has none) included.
    data = json.loads(analysed_batch_norm.model_dump_json())
    data["bf16_analysis"]["one_sample_error"] = None  # as profile files were written before
    path = tmp_path / "older.json"
    path.write_text(json.dumps(data))
    prof = advisor.api.load_profile(path)
    assert prof.bf16_analysis.one_sample_error == prof.analysis.one_sample_error is not None
    half = prof.analysed_for("bf16")
    assert half.analysis is prof.bf16_analysis and prof.analysed_for("fp16").analysis is half.analysis
    two = advisor.predict(prof, dataset_size=18, epochs=1, batch_size=8, precision="bf16", save=False,
                          target=advisor.Target.gpu("A100-80GB", 2), use_history=False)
    [note] = _raises(two)
    assert "(18 = 2 x 8 + 2), which 2 GPUs split one sample each" in note


def test_told_one_sample_gives_the_first_analysis_error_to_the_second_only_where_it_has_none(analysed_batch_norm):
    from advisor.schemas.small_batch import told_one_sample

    first, told = analysed_batch_norm.analysis, analysed_batch_norm.bf16_analysis
    untold = told.model_copy(update={"one_sample_error": None})
    assert told_one_sample(first, untold).one_sample_error == first.one_sample_error
    assert told_one_sample(first, untold).ops == untold.ops  # the same analysis otherwise
    assert told_one_sample(first, told) is told  # has it: unchanged
    assert told_one_sample(None, untold) is untold and told_one_sample(first, None) is None
    assert told_one_sample(untold, untold) is untold  # a first analysis with no error: nothing to give


def test_a_cpu_estimate_of_a_job_of_one_sample_steps_says_it_would_fail(batch_norm_profile):
    # --batch-size 1 of a BatchNorm1d model: a 1-GPU estimate said the job would fail at its first step, and the
    # CPU's (predict --device cpu, recommend's CPU rows) said nothing, though the CPU takes the same step.
    from advisor.schemas.small_batch import raised_at, step_raises_note

    error = batch_norm_profile.devices[0].small_batch_error.error  # the ladder's real step, on this CPU
    note = step_raises_note(error, 1, 1)
    assert note.startswith("each step of this job (--batch-size 1) is one sample, a batch size at which the model "
                           "raised (the training step raised ValueError: Expected more than 1 value per channel")
    assert note.endswith("the job would fail at its first step, on any device (a CPU or a GPU takes the step "
                         "whole). Fix: --batch-size 2 or more.")
    assert raised_at(batch_norm_profile)[1] == error
    for target in ("cpu", "A100-80GB"):
        est = advisor.predict(batch_norm_profile, dataset_size=16, epochs=1, batch_size=1, target=target,
                              save=False, use_history=False)
        assert [n for n in est.notes if "fail at its first step" in n] == [note], target
    rec = advisor.recommend(batch_norm_profile, dataset_size=16, epochs=1, batch_size=1, save=False)
    assert note in rec.verdict.warnings, rec.verdict.warnings
    two = advisor.predict(batch_norm_profile, dataset_size=16, epochs=1, batch_size=2, target="cpu", save=False,
                          use_history=False)
    assert not [n for n in two.notes if "fail at its first step" in n]


def test_a_profile_copied_with_an_untold_bf16_analysis_still_gives_its_bf16_rows_the_error():
    # review1: analysed_for gave the bf16 analysis the first's batch-1 error only where the Profile validator ran;
    # a profile from model_copy(update=...) (no validation: a what-if in Python) priced its 16-bit rows without it,
    # though its fp32 rows had it and analysed_for had told them before.
    from pathlib import Path

    from advisor.schemas import Profile

    data = json.loads((Path(__file__).parent / "data" / "tabular_mlp_subnormal_profile.json").read_text())
    data["analysis"]["one_sample_error"] = "the forward at batch size 1 raised ValueError: one value per channel"
    prof = Profile.model_validate(data)
    untold = prof.bf16_analysis.model_copy(update={"one_sample_error": None})
    copied = prof.model_copy(update={"bf16_analysis": untold})
    assert copied.analysed_for("bf16").analysis.one_sample_error == data["analysis"]["one_sample_error"]
    assert copied.analysed_for("mixed").analysis.ops == untold.ops  # the bf16 analysis otherwise
    assert prof.analysed_for("fp16").analysis is prof.bf16_analysis  # told as read: the one object, each call
