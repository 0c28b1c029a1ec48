"""advisor.workload.job: the job from explicit values over a workload's defaults, and the errors for bad values."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from workload_helpers import GOOD_BATCH, GOOD_MODEL, assert_message, write

from advisor.errors import WorkloadError
from advisor.option_words import FLAG_PARAMETERS
from advisor.workload import JobSpec, Workload, check_job_values, load_workload, resolve_job


@pytest.mark.parametrize("const, flag, value", [
    ("DATASET_SIZE", "--dataset-size", 0), ("EPOCHS", "--epochs", -1), ("BATCH_SIZE", "--batch-size", 0),
    ("BATCH_SIZE", "--batch-size", 2.5), ("EPOCHS", "--epochs", "3"), ("EPOCHS", "--epochs", True),
])
def test_bad_defaults_in_the_file(tmp_path, const, flag, value):
    defaults = {"DATASET_SIZE": 100, "EPOCHS": 1, "BATCH_SIZE": 8}
    defaults[const] = value
    path = write(tmp_path, GOOD_MODEL + GOOD_BATCH + "".join(f"{k} = {v!r}\n" for k, v in defaults.items()))
    workload = load_workload(path)
    with pytest.raises(WorkloadError) as err:
        workload.job()
    # A Python caller's message names the parameter (dataset_size=N); the CLI's, as written, the flag.
    message = assert_message(err, str(path), f"{const} = {value!r}", "positive whole number",
                             f"{FLAG_PARAMETERS[flag]}=")
    assert flag not in message and flag in err.value.cli_hint


@pytest.mark.parametrize("kwargs, flag, phrase", [
    ({"dataset_size": 0}, "--dataset-size", "must be a positive whole number"),
    ({"epochs": 0}, "--epochs", "must be a positive whole number"),
    ({"batch_size": -8}, "--batch-size", "must be a positive whole number"),
    ({"dataset_size": 10**23}, "--dataset-size", "is more than 10^12"),
    ({"epochs": 1e13}, "--epochs", "is more than 10^12"),
    ({"batch_size": 10**12 + 1}, "--batch-size", "is more than 10^12"),
])
def test_bad_explicit_job_values(kwargs, flag, phrase):
    workload = Workload(model=nn.Linear(2, 2), make_batch=lambda b: (torch.randn(b, 2), None), name="mine",
                        dataset_size=10, epochs=1, batch_size=2)
    with pytest.raises(WorkloadError) as err:
        workload.job(**kwargs)
    message = assert_message(err, "workload 'mine'", phrase, f"{FLAG_PARAMETERS[flag]}=")
    assert flag not in message and flag in err.value.cli_hint


@pytest.mark.parametrize("keyword", ["dataset_size", "epochs", "batch_size"])
def test_a_job_figure_of_ten_to_the_twelve_is_taken(keyword):
    workload = Workload(model=nn.Linear(2, 2), make_batch=lambda b: (torch.randn(b, 2), None), name="mine",
                        dataset_size=10, epochs=1, batch_size=2)
    assert workload.job(**{keyword: 10**12}).total_steps >= 1  # the bound itself is taken


@pytest.mark.parametrize("dataset_size, epochs", [(10**12, 10**12), (10**12, 1001), (10**9, 10**6 + 1)])
def test_a_job_of_more_than_ten_to_the_fifteen_samples_is_refused(dataset_size, epochs):
    """Each figure within 10^12, 10^12 epochs of 10^12 samples was taken: 10^24 micro-steps, stored as if real."""
    with pytest.raises(WorkloadError) as err:
        resolve_job(dataset_size=dataset_size, epochs=epochs, batch_size=1)
    assert err.value.cli_message == (f"{dataset_size:,} samples x {epochs:,} epochs is {dataset_size * epochs:,} "
                                     "samples processed, more than 10^15, beyond any real job.")
    most = 10**15 // dataset_size
    assert f"--epochs {most} or fewer" in err.value.cli_hint
    with pytest.raises(WorkloadError):  # refused before any probe, as a figure past 10^12 is
        check_job_values(dataset_size, epochs, 1)
    assert resolve_job(dataset_size=dataset_size, epochs=most, batch_size=1).total_steps == dataset_size * most


def test_a_batch_larger_than_the_dataset_is_the_whole_dataset():
    job = resolve_job(dataset_size=20_000, epochs=2, batch_size=1_000_000)
    assert job == JobSpec(20_000, 2, 20_000) and job.steps_per_epoch == 1 and job.last_batch_size == 20_000


def test_predict_with_a_batch_larger_than_the_dataset_answers_as_for_the_dataset_batch():
    from pathlib import Path

    import advisor

    profile = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
    big, whole = (advisor.predict(str(profile), dataset_size=20_000, epochs=2, batch_size=b, target="cpu",
                                  use_history=False) for b in (1_000_000, 20_000))
    assert big.batch_size == 20_000 and big.fits_memory == whole.fits_memory
    assert big.peak_memory_gib == whole.peak_memory_gib and big.seconds == whole.seconds
    # The figure given is said, with what was done: the answer's batch_size (20,000) is not the one typed.
    capped = ("--batch-size 1000000 is more than the dataset's 20,000 samples: each epoch is one batch of 20,000 "
              "(as a DataLoader makes it), and that is the batch predicted.")
    assert big.notes[0] == capped and not any("is more than the dataset" in n for n in whole.notes)


def test_more_gpus_than_a_capped_batch_says_the_batch_was_capped():
    """--batch-size 512 on 1 sample: the reason told of a batch of 1 the user never gave."""
    from pathlib import Path

    import advisor
    from advisor.errors import PredictionError

    profile = Path(__file__).resolve().parents[1] / "hostile" / "data" / "tabular_profile.json"
    with pytest.raises(PredictionError) as err:
        advisor.predict(str(profile), dataset_size=1, epochs=1, batch_size=512,
                        target=advisor.Target.gpu("A100-80GB", 8), use_history=False)
    assert err.value.cli_message == ("batch size 1 cannot be split over 8 GPUs: each GPU needs at least one sample "
                                     "per step, and the batch is the whole dataset: a --batch-size larger than the "
                                     "dataset is capped to it.")
    assert err.value.cli_hint.endswith("or at most 1 GPU (predict's --gpus).")  # not "1 GPUs"


def test_missing_job_value_names_flag_and_constant():
    workload = Workload(model=nn.Linear(2, 2), make_batch=lambda b: (torch.randn(b, 2), None), name="mine")
    with pytest.raises(WorkloadError) as err:
        workload.job(dataset_size=10, epochs=1)
    message = assert_message(err, "workload 'mine'", "no batch size given", "batch_size=N", "BATCH_SIZE = N")
    assert "--batch-size" not in message and "--batch-size N" in err.value.cli_hint


def test_whole_number_values_are_accepted():
    workload = Workload(model=nn.Linear(2, 2), make_batch=lambda b: (torch.randn(b, 2), None),
                        dataset_size=5e4, epochs=torch.tensor(2).item(), batch_size=128)
    job = workload.job()
    assert job == JobSpec(50_000, 2, 128) and isinstance(job.dataset_size, int)
    assert job.steps_per_epoch == 391 and job.last_batch_size == 50_000 - 390 * 128 and job.total_steps == 782


def test_resolve_job_prefers_explicit_values_over_the_defaults():
    job = resolve_job(dataset_size=None, epochs=2, batch_size=None, default_dataset_size=100, default_epochs=5,
                      default_batch_size=8)
    assert job == JobSpec(100, 2, 8)


def test_resolve_job_without_a_label_leaves_the_name_out():
    with pytest.raises(WorkloadError) as err:
        resolve_job(dataset_size=10, epochs=None, batch_size=4)
    assert str(err.value).startswith("no epochs given.")
    with pytest.raises(WorkloadError) as err:
        resolve_job(dataset_size=10, epochs=1, batch_size=None, default_batch_size=0)
    assert_message(err, "BATCH_SIZE = 0: the batch size must be a positive whole number", "--batch-size N")


def test_a_fraction_is_told_to_be_a_whole_number_not_one_or_more():
    """epochs=2.7 was told "Fix: pass epochs= with a value of 1 or more": 2.7 is already 1 or more."""
    with pytest.raises(WorkloadError) as err:
        check_job_values(100, 2.7, 8)
    assert err.value.cli_hint == "Fix: pass --epochs with a whole number of 1 or more, e.g. --epochs 3."
    with pytest.raises(WorkloadError) as err:
        check_job_values(0, 1, 8)
    assert err.value.cli_hint == "Fix: pass --dataset-size with a whole number of 1 or more."


@pytest.mark.parametrize("kwargs, flag", [
    ({"dataset_size": 0}, "--dataset-size"), ({"epochs": 1.5}, "--epochs"), ({"batch_size": "8"}, "--batch-size"),
])
def test_check_job_values_rejects_explicit_bad_values(kwargs, flag):
    values = {"dataset_size": None, "epochs": None, "batch_size": None, **kwargs}
    with pytest.raises(WorkloadError) as err:
        check_job_values(**values)
    assert_message(err, "must be a positive whole number", flag)
    check_job_values(None, None, None)  # nothing given: the defaults are checked later
