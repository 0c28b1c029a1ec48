"""The ``predict --gpus 1,2,4,8`` table's rows that do not fit say why under the table, with the flags that would
run the job. Before, a row read "does not fit (17.0 GiB)" on a 140 GiB H200 (a batch the probe ran out of memory at
rules it out) and nothing under the table said why, nor which batch fits: only the rows' caveats were printed."""

from __future__ import annotations

import json
from pathlib import Path

from advisor.cli.scaling_cells import grid_notes, memory_cell
from advisor.scaling import predict_grid

PROFILE = Path(__file__).resolve().parents[1] / "predictor" / "data" / "h200_nanogpt_gpt2_bf16_profile.json"


def test_a_row_the_probes_out_of_memory_rules_out_says_why_under_the_table(tmp_path):
    data = json.loads(PROFILE.read_text())
    data["devices"][0]["oom_batch_size"] = 16  # its peaks' line puts batch 16 at 17 GiB of the H200's 140
    path = tmp_path / "oom.json"
    path.write_text(json.dumps(data))
    grid = predict_grid(path, gpu="H200", counts=[4, 8], dataset_size=2_000_000, epochs=3, batch_size=64)
    four, eight = (r.estimate for r in grid.rows)
    assert not four.fits_memory and four.peak_memory_gib < 20 and eight.fits_memory
    assert memory_cell(four) == f"does not fit ({four.peak_memory_gib:.1f} GiB)"
    said = [n for n in grid_notes(grid.rows) if "fit" in n]
    assert said == ["4 GPUs, bf16: does not fit: batch 16 per GPU is over 15, the largest below a batch that ran out "
                    "of memory in the probe (the line of its peaks gives 17 GiB of 140); at 10 per GPU, "
                    "--batch-size 40 --grad-accum-steps 8 keeps the 320 samples per optimizer update."]


def test_a_row_past_the_memory_gives_its_largest_batch_and_flags():
    # 2 GPUs: past the memory sharded too (4 hold it sharded, so their row is priced so: test_probe_sharded)
    grid = predict_grid(PROFILE, gpu="V100-16GB", counts=[2, 8], dataset_size=2_000_000, epochs=3, batch_size=64)
    said = [n for n in grid_notes(grid.rows) if "fit" in n]
    assert said == ["2 GPUs, fp16: Needs 31.1 GiB at batch 32 per device, 16.0 GiB available; the largest batch per "
                    "device that fits is 14 (at 10 per GPU, --batch-size 20 --grad-accum-steps 16 keeps the 320 "
                    "samples per optimizer update)."]
