"""The examples/ workloads: each loads, carries valid job defaults and trains one step."""

from __future__ import annotations

import pytest
import torch
from workload_helpers import EXAMPLES, assert_message

from advisor.errors import WorkloadError
from advisor.workload import JobSpec, Workload, check_workload, load_workload

SMALL_EXAMPLES = {
    # name: (parameters, optimizer, inputs at batch 2)
    "tabular_mlp": (301_066, "AdamW", "Tensor[2, 64] float32"),
    "small_cnn": (94_762, "SGD", "Tensor[2, 3, 32, 32] float32"),
    "tiny_transformer_lm": (1_063_680, "AdamW", "{input_ids: Tensor[2, 64] int64, labels: Tensor[2, 64] int64}"),
    "resnet50": (25_557_032, "SGD", "Tensor[2, 3, 224, 224] float32"),
}


@pytest.mark.parametrize("name", list(SMALL_EXAMPLES))
def test_examples_pass_the_check(name):
    params, optimizer, inputs = SMALL_EXAMPLES[name]
    workload = load_workload(EXAMPLES / f"{name}.py")
    result = check_workload(workload, batch_size=2)
    assert (result.param_count, result.trainable_param_count) == (params, params)
    assert result.optimizer_name == optimizer
    assert result.input_summary == inputs
    job = workload.job()  # every example carries valid defaults
    assert job.dataset_size > 0 and job.epochs > 0 and job.batch_size > 0


def test_example_defaults():
    jobs = {p.stem: load_workload(p).job() for p in sorted(EXAMPLES.glob("*.py"))}
    assert jobs["resnet50"] == JobSpec(1_281_167, 1, 256)
    assert jobs["bert_squad"] == JobSpec(88_641, 2, 32)
    assert jobs["small_cnn"].dataset_size == 50_000
    assert set(jobs) >= {"tabular_mlp", "small_cnn", "tiny_transformer_lm", "resnet50", "bert_squad"}
    for path in EXAMPLES.glob("*.py"):
        import ast

        assert ast.get_docstring(ast.parse(path.read_text())), f"{path.name} has no docstring"


def _meta_params(workload: Workload) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in workload.build_model().parameters())


@pytest.mark.parametrize("size, params", [("base", 108_893_186), ("large", 334_094_338)])
def test_bert_parameter_counts(monkeypatch, size, params):
    # bert-base-uncased is 109,482,240 with its pooler (768 x 768 + 768 = 590,592); the SQuAD model drops
    # the pooler and adds the span head (768 x 2 + 2 = 1,538): 109,482,240 - 590,592 + 1,538.
    monkeypatch.setenv("ADVISOR_BERT_SIZE", size)
    assert _meta_params(load_workload(EXAMPLES / "bert_squad.py")) == params


def test_bert_unknown_size(monkeypatch):
    monkeypatch.setenv("ADVISOR_BERT_SIZE", "huge")
    with pytest.raises(WorkloadError) as err:
        check_workload(load_workload(EXAMPLES / "bert_squad.py"))
    assert_message(err, "bert_squad.py", "build_model() raised ValueError", "'huge'", "base, large")


def test_bert_trains_one_step(monkeypatch):
    # The real code path at batch 2 and full sequence length, with a 2-layer encoder so it stays quick;
    # the full 12-layer model takes 5 s or more on a 2-core CPU.
    monkeypatch.setenv("ADVISOR_BERT_SIZE", "base")
    workload = load_workload(EXAMPLES / "bert_squad.py")
    import sys

    module = sys.modules[workload.make_batch.__module__]
    monkeypatch.setitem(module.SIZES, "base", (2, 128, 2, 512))
    result = check_workload(workload, batch_size=2)
    assert result.optimizer_name == "AdamW" and result.target_summary == "None"
    assert result.input_summary.startswith("{input_ids: Tensor[2, 384] int64, token_type_ids: Tensor[2, 384] int64")
    assert "start_positions: Tensor[2] int64, end_positions: Tensor[2] int64" in result.input_summary
    assert 0 < result.loss < 20


def test_bert_batches_are_well_formed():
    workload = load_workload(EXAMPLES / "bert_squad.py")
    inputs, target = workload.make_batch(16)
    assert target is None
    mask, types = inputs["attention_mask"], inputs["token_type_ids"]
    lengths = mask.sum(1)
    assert ((lengths >= 192) & (lengths <= 384)).all()
    assert (inputs["input_ids"][mask == 0] == 0).all() and (inputs["input_ids"][mask == 1] > 0).all()
    assert (types[mask == 0] == 0).all() and (types.sum(1) > 0).all()
    start, end = inputs["start_positions"], inputs["end_positions"]
    assert (start <= end).all() and (end < lengths).all()
    assert (types.gather(1, start[:, None]) == 1).all()  # the answer lies in the context segment


def test_jpeg_resnet_decodes_its_own_jpegs(monkeypatch):
    import sys

    from PIL import Image

    from advisor.workload import LoaderRun

    workload = load_workload(EXAMPLES / "jpeg_resnet.py")
    module = sys.modules[workload.make_dataloader.__module__]
    monkeypatch.setattr(module, "N_FILES", 8)  # a few files are enough here (256 take seconds to write)
    monkeypatch.setattr(module, "_FILES", {})
    assert workload.job() == JobSpec(2560, 2, 64) and workload.num_workers is None
    assert not workload.make_batch_derived
    with LoaderRun(workload, 4, 0) as run:
        x, y = run.next_batch()
        assert run.loader.pin_memory and len(run.loader.dataset) == 2560
    assert x.shape == (4, 3, 112, 112) and x.dtype == torch.float32
    assert -3 < x.mean().item() < 3 and x.std().item() > 0.1  # normalised pixels, not raw 0..255
    assert y.dtype == torch.int64 and ((y >= 0) & (y < module.NUM_CLASSES)).all()
    files = module.jpeg_files()
    assert len(files) == 8
    with Image.open(files[0]) as img:
        assert img.format == "JPEG" and 320 <= img.size[0] < 500 and 280 <= img.size[1] < 420
    result = check_workload(workload, batch_size=2)
    assert (result.param_count, result.optimizer_name) == (2_824_580, "SGD")
    assert result.input_summary == "Tensor[2, 3, 112, 112] float32"
    module._remove(files[0].parent, __import__("os").getpid())
    assert not files[0].parent.exists()


def test_wide_features_explains_its_cpu_win_by_the_gpus_start_up():
    """The copy makes the GPU transfer-bound but it stays faster per sample: the short job's CPU win is the GPU's
    start-up, and the docstring must not say the copy outlasts the CPU's training (it does not)."""
    doc = (EXAMPLES / "wide_features.py").read_text().split('"""')[1]
    assert "longer than a CPU takes" not in doc
    assert "start-up" in doc and "--epochs 30" in doc and "transfer-bound" in doc


def test_the_readme_says_make_batch_is_optional_with_a_loader_and_jpeg_resnets_real_sizes():
    from advisor.workload import read_defaults

    readme = (EXAMPLES.parent / "README.md").read_text()
    assert "# required unless make_dataloader" in readme
    jpeg = EXAMPLES / "jpeg_resnet.py"
    size = read_defaults(jpeg)["dataset_size"]
    image = next(line.split("=")[1].strip() for line in jpeg.read_text().splitlines()
                 if line.startswith("IMAGE_SIZE ="))
    assert f"half-width ResNet-18 at {image} px on {size:,} samples" in " ".join(readme.split())
