"""Published rows cite the files their figures come from: Lambda's current table's batch sizes (the bs files at
the throughput commit, 0551cb70: the 08d77c41 ones have no row for two of its systems), which of its systems were
taken (profiles/README.md), and the sequence length of torchtitan's rows (its config at the commit it names)."""

from __future__ import annotations

import csv
import re

from advisor.data_files import data_file


def _rows(name: str) -> list[dict[str, str]]:
    with open(data_file("profiles", name), newline="") as fh:
        return list(csv.DictReader(fh))


def test_lambda_current_rows_cite_the_bs_files_at_the_throughput_commit():
    rows = _rows("lambda_current_benchmarks.csv")
    assert len(rows) == 54
    for row in rows:
        assert "pytorch-train-throughput-<fp32|fp16>.csv @0551cb70 with batch sizes from " \
               "pytorch/pytorch-train-bs-<fp32|fp16>.csv @0551cb70 (" in row["source"], row
        assert "08d77c41" not in row["source"] and "not in the bs table" not in row["notes"], row


def test_lambda_current_systems_are_the_ones_profiles_readme_lists():
    systems = {re.search(r'raw system name "([^"]+)"', r["notes"]).group(1) for r in _rows(
        "lambda_current_benchmarks.csv")}
    assert systems == {"LambdaCloud V100 16GB", "RTX 3090", "LambdaCloud A100 40GB PCIe", "A100 80GB PCIe",
                       "A100 80GB SXM4", "RTX A6000", "RTX 4090", "H100 80GB PCIe Gen5", "1CC H100 80GB SXM5"}
    with open(data_file("profiles", "README.md")) as fh:
        readme = " ".join(fh.read().split())
    assert "**1CC H100 80GB SXM5** (Lambda's 1-Click Cluster node)" in readme
    left_out = "**LambdaCloud A10** (A10, which the price catalog rents), **RTX 6000 Ada** and **Quadro RTX 8000**"
    assert left_out in readme


def test_torchtitan_rows_cite_the_config_their_sequence_length_comes_from():
    rows = [r for r in _rows("published_throughput.csv") if r["source"] == "torchtitan"]
    assert len(rows) == 2
    for row in rows:
        assert row["seq_len"] == "8192"
        assert "train_configs/llama3_8b.toml @9dec370 (seq_len = 8192)" in row["notes"], row
