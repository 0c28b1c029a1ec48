"""Names a workload file binds that look like a misspelled setting or function: a note naming the known name,
and the "no batch size given" error pointing at the one written for it (advisor.workload.names)."""

from __future__ import annotations

import pytest

from advisor.errors import WorkloadError
from advisor.workload import read_constants, resolve_settings
from advisor.workload.job import resolve_job

TYPOS = """
DATASET_SIZE = 1000
EPOCHS = 1
Precision = "bf16"
BATCHSIZE = 64
def loss(output, target):
    return output.sum()
def optimizer(params):
    return None
def make_data_loader(batch_size, num_workers):
    return []
def build_model():
    pass
def make_batch(batch_size):
    pass
"""


def test_misspelled_settings_and_functions_are_found_with_their_line():
    found = read_constants(TYPOS).near_misses
    assert found == {"Precision": ("PRECISION", 4), "BATCHSIZE": ("BATCH_SIZE", 5), "loss": ("loss_fn", 6),
                     "optimizer": ("configure_optimizer", 8), "make_data_loader": ("make_dataloader", 10)}


@pytest.mark.parametrize("text, name, known", [
    ("NUM_EPOCHS = 3", "NUM_EPOCHS", "EPOCHS"),
    ("EPOCH = 3", "EPOCH", "EPOCHS"),
    ("criterion = object()", "criterion", "loss_fn"),
    ("def configure_optimizers(params): pass", "configure_optimizers", "configure_optimizer"),
])
def test_usual_other_names_are_near_misses(text, name, known):
    assert read_constants(text).near_misses[name][0] == known


@pytest.mark.parametrize("text", [
    "EPOCHS = 3\nNUM_EPOCHS = 3",  # the known name is set: the other is the file's own
    "epochs_seen = 0\nhidden = 64\ndef helper(): pass",
    "def loss_fn(o, t): pass\ndef loss(o, t): pass",
    "_PRECISION = 'bf16'",
    "class Loss:\n    pass\nclass DataLoader:\n    pass",
])
def test_the_files_own_names_are_not_near_misses(text):
    assert read_constants(text).near_misses == {}


def test_each_near_miss_is_a_note_naming_the_known_name_and_the_line():
    notes = resolve_settings({}, read_constants(TYPOS), label="w/t.py").notes
    assert "w/t.py:4: `Precision` is not a setting advisor reads, so it has no effect; did you mean PRECISION? " \
           "Rename it if so, or pass --precision P." in notes
    assert any(n.startswith("w/t.py:6: `loss` is not a function advisor reads, so the default loss") and
               "did you mean loss_fn?" in n for n in notes)
    assert any("`optimizer`" in n and "AdamW" in n and "configure_optimizer?" in n for n in notes)


def test_no_batch_size_given_names_the_misspelled_constant():
    with pytest.raises(WorkloadError) as err:
        resolve_job(dataset_size=None, epochs=None, batch_size=None, default_dataset_size=1000, default_epochs=1,
                    label="w/t.py", near_misses=read_constants(TYPOS).near_misses)
    assert str(err.value).splitlines()[0] == ("w/t.py: no batch size given; the file sets `BATCHSIZE` (line 5), "
                                              "which advisor does not read: did you mean BATCH_SIZE?")
    assert err.value.hint == "Fix: pass --batch-size N, or set BATCH_SIZE = N in the workload file (rename " \
                             "BATCHSIZE to BATCH_SIZE)."


def test_a_saved_profile_keeps_the_near_misses_and_its_predictions_note_them(tmp_path):
    """``predict --profile`` said nothing of a file's ``BATCHSIZE`` or ``def loss`` where ``predict FILE`` noted
    them: the probe now records the near misses in the profile (``WorkloadInfo.near_misses``)."""
    from advisor.probe.runner import _describe
    from advisor.schemas import Profile
    from advisor.workload.settings import job_settings

    path = tmp_path / "w.py"
    path.write_text(TYPOS)
    _label, info = _describe(path)
    assert info.near_misses["BATCHSIZE"] == ("BATCH_SIZE", 5) and info.near_misses["loss"] == ("loss_fn", 6)
    prof = Profile.model_validate_json(Profile(workload=info).model_dump_json())  # as saved and loaded
    from_profile, from_file = job_settings(prof, {}).notes, job_settings(path, {}).notes
    assert from_profile == from_file and len(from_file) == 5
    assert f"{path}:5: `BATCHSIZE` is not a setting advisor reads, so it has no effect; did you mean BATCH_SIZE?" \
        in from_profile[1]
    assert "`loss` is not a function advisor reads, so the default loss" in from_profile[2]


def test_nanogpt_and_hf_names_of_the_settings_are_near_misses_naming_the_setting_and_its_flag():
    """A script adapted from nanoGPT priced at fp32, accumulation 1 and no evaluation with a note only about
    ``compile``: its other settings' names were not matched."""
    text = ("gradient_accumulation_steps = 5 * 8\neval_interval = 1000\neval_iters = 200\ndtype = 'bfloat16'\n"
            "compile = True\nEVAL_ITERS = 3\nuse_amp = True\n")
    assert read_constants(text).near_misses == {
        "gradient_accumulation_steps": ("GRAD_ACCUM_STEPS", 1), "eval_interval": ("EVAL_EVERY", 2),
        "eval_iters": ("EVAL_STEPS", 3), "dtype": ("PRECISION", 4), "compile": ("COMPILE", 5),
        "EVAL_ITERS": ("EVAL_STEPS", 6), "use_amp": ("PRECISION", 7)}
    notes = resolve_settings({}, read_constants(text), label="n.py").notes
    assert notes[0] == ("n.py:1: `gradient_accumulation_steps` is not a setting advisor reads, so it has no effect; "
                        "did you mean GRAD_ACCUM_STEPS (nanoGPT's counts the micro-steps of all GPUs together: its "
                        "5 * 8 on 8 GPUs is GRAD_ACCUM_STEPS = 5, per GPU)? Rename it if so, or pass "
                        "--grad-accum-steps N.")
    assert notes[1].endswith("did you mean EVAL_EVERY? Rename it if so, or pass --eval-every N.")
    assert notes[2].endswith("did you mean EVAL_STEPS? Rename it if so, or pass --eval-steps N.")
    assert notes[3].startswith("n.py:4: `dtype` is not a setting advisor reads")
    assert notes[3].endswith("did you mean PRECISION? Rename it if so, or pass --precision P.")
    assert notes[4].endswith("did you mean COMPILE? Rename it if so, or pass --compile / --no-compile.")
    # A file that sets the setting itself keeps its own helper names: nothing to misspell.
    assert read_constants("GRAD_ACCUM_STEPS = 5\ngradient_accumulation_steps = 40\n").near_misses == {}


SCHEDULED = """
DATASET_SIZE = 1000
EPOCHS = 1
MAX_GRAD_NORM = 1.0
WARMUP_STEPS = 100
CLIP_GRAD = True
def configure_scheduler(optimizer):
    return None
def build_model():
    pass
def make_batch(batch_size):
    pass
"""


def test_a_scheduler_and_gradient_clipping_get_one_note_each_saying_they_are_not_timed(tmp_path):
    found = read_constants(SCHEDULED).near_misses
    # one name a part, the likeliest: the scheduler function before WARMUP_STEPS, CLIP_GRAD before MAX_GRAD_NORM
    assert found == {"configure_scheduler": ("lr_scheduler", 7), "CLIP_GRAD": ("gradient_clipping", 6)}
    notes = resolve_settings({}, read_constants(SCHEDULED), label="w/s.py").notes
    assert ("w/s.py:7: `configure_scheduler` looks like a learning-rate schedule, which advisor neither reads nor "
            "times; its cost is small: it sets each param group's lr once per optimizer step.") in notes
    clipping = [n for n in notes if n.startswith("w/s.py:6: `CLIP_GRAD` looks like gradient clipping, which "
                                                 "advisor neither reads nor times; its cost is small")]
    assert len(clipping) == 1 and "clip_grad_norm_" in clipping[0]
    assert len(notes) == 2
    # and a saved profile keeps them, as it keeps the misspellings
    from advisor.probe.runner import _describe
    from advisor.schemas import Profile
    from advisor.workload.settings import job_settings

    path = tmp_path / "s.py"
    path.write_text(SCHEDULED)
    prof = Profile.model_validate_json(Profile(workload=_describe(path)[1]).model_dump_json())
    assert job_settings(prof, {}).notes == job_settings(path, {}).notes


@pytest.mark.parametrize("text, name, part", [
    ("def build_scheduler(opt): pass", "build_scheduler", "lr_scheduler"),
    ("lr_scheduler = None", "lr_scheduler", "lr_scheduler"),
    ("def get_lr(it): pass", "get_lr", "lr_scheduler"),  # nanoGPT's
    ("grad_clip = 1.0", "grad_clip", "gradient_clipping"),  # nanoGPT's
    ("GRADIENT_CLIP_VAL = 0.5", "GRADIENT_CLIP_VAL", "gradient_clipping"),
])
def test_usual_names_of_a_schedule_and_of_clipping_are_found(text, name, part):
    assert read_constants(text).near_misses[name][0] == part


@pytest.mark.parametrize("text", ["CLIP_MODEL = 'ViT-B/32'", "def clip_loss(a, b): pass", "learning_rate = 3e-4"])
def test_a_clip_model_and_a_learning_rate_are_not_clipping_or_a_schedule(text):
    assert read_constants(text).near_misses == {}
