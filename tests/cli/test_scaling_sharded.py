"""The ``predict --gpus 1,2,4,8`` table of a model that fits a row only sharded (FSDP/ZeRO-3). Its memory cell said a
plain "fits (46.2 GiB)" and nothing under the table said the script must shard, so a user read "8 GPUs with DDP
work" where DDP runs out of memory; ``predict --gpus 8`` alone said "fits sharded (FSDP/ZeRO-3)"."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import run

from advisor.api import load_profile
from advisor.cli.scaling_cells import memory_cell
from advisor.scaling import predict_grid

PROFILE = Path(__file__).resolve().parents[1] / "predictor" / "data" / "h200_nanogpt_gpt2_bf16_profile.json"
SHARDED_NOTE = ("note: fits sharded (2 GPUs, bf16; 8 GPUs, bf16): a full copy of the model per GPU (DDP) does not "
                "fit, so these rows are priced as sharded data parallel (FSDP FULL_SHARD / ZeRO-3), the weights, "
                "gradients and optimizer state split over the GPUs; the time, memory and cost hold only if the "
                "training script shards "
                "(torch.distributed.fsdp, or DeepSpeed ZeRO stage 3); with plain DDP it runs out of memory.")


def _seven_billion(tmp_path) -> Path:
    """The nanoGPT profile with a 7B model's fp32 weights, gradients and AdamW state (as tests/predictor/
    test_sharded.py builds it): DDP does not fit an H100, sharded over 8 it does."""
    prof = load_profile(PROFILE).model_copy(update={"devices": []})
    n = 7e9
    analysis = prof.analysis.model_copy(update={"param_bytes": 4 * n, "gradient_bytes": 4 * n,
                                                "optimizer_state_bytes": 8 * n})
    path = tmp_path / "seven_billion.json"
    path.write_text(prof.model_copy(update={"analysis": analysis}).model_dump_json())
    return path


def test_a_row_that_fits_only_sharded_says_so_and_the_note_under_the_table_says_the_script_must_shard(app, tmp_path):
    path = _seven_billion(tmp_path)
    grid = predict_grid(path, gpu="H100-SXM", counts=[1, 2, 8], dataset_size=96_000, epochs=1, batch_size=16)
    one, two, eight = (r.estimate for r in grid.rows)
    assert not one.fits_memory and not one.sharded
    assert two.sharded and two.fits_memory and eight.sharded and eight.fits_memory
    assert memory_cell(eight) == f"fits sharded ({eight.peak_memory_gib:.1f} GiB)"
    assert memory_cell(one) == f"does not fit ({one.peak_memory_gib:.1f} GiB)"
    res = run(app, "predict", "--profile", path, "--gpu", "H100-SXM", "--gpus", "1,2,8", "--dataset-size", "96000",
              "--epochs", "1", "--batch-size", "16", "--no-save")
    assert res.exit_code == 0, res.output
    flat = " ".join(res.stdout.split())  # rich wraps long notes
    assert flat.count(SHARDED_NOTE) == 1
    assert flat.count("fits sharded (") == 3  # the 2- and 8-GPU rows' cells and the note; one GPU does not fit


def test_a_table_whose_rows_all_fit_under_ddp_has_no_sharded_note(app):
    res = run(app, "predict", "--profile", PROFILE, "--gpu", "H100-SXM", "--gpus", "1,8", "--no-save")
    assert res.exit_code == 0, res.output
    assert "sharded" not in res.stdout
