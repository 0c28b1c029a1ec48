"""No held-out source (NeuSight, NVIDIA DeepLearningExamples, rasbt/LLMs-from-scratch, karpathy/nanoGPT) reaches a
calibration fit: the shipped tables hold none, and a row that names one is refused."""

from __future__ import annotations

import csv
import json

import pytest
from bench_scripts import bench_modules

import advisor.predictor.calibration_fit as C
from advisor.data_files import data_dir
from advisor.errors import PredictionError
from advisor.predictor.held_out import held_out_source

PROFILES = data_dir("profiles")
DLE_URL = ("https://github.com/NVIDIA/DeepLearningExamples/blob/291f0d02e815b148fa5c2b81bf07aa3552142895/"
           "PyTorch/Classification/ConvNets/resnet50v1.5/README.md")


@pytest.mark.parametrize(("text", "name"), [
    (DLE_URL, "NVIDIA DeepLearningExamples"), ("NeuSight labels", "NeuSight"),
    ("https://github.com/rasbt/LLMs-from-scratch/blob/main/ch05/README.md", "rasbt/LLMs-from-scratch"),
    ("https://github.com/karpathy/nanoGPT", "karpathy/nanoGPT"), ("nanoGPT README", "karpathy/nanoGPT"),
    ("heldout-dle", "advisor's held-out benchmark rows"),
    ("github.com/lambdal/deeplearning-benchmark pytorch-train-throughput (NVIDIA DLE code)", None),
    ("advisor-H200", None), ("llm-foundry", None),
])
def test_held_out_source_names(text, name):
    assert held_out_source(text) == name


def test_no_shipped_calibration_table_or_fit_names_a_held_out_source():
    for name in (*C.FIT_FILES, "published_throughput.csv"):
        with (PROFILES / name).open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows
        assert [r for r in rows if held_out_source(r.get("source"), r.get("url"))] == [], name
    provenance = json.loads((PROFILES / "calibration.json").read_text())["provenance"]
    assert provenance["sources"] and not any(held_out_source(s) for s in provenance["sources"])
    (gpu_rows,) = bench_modules("gpu_rows")
    assert C.load_fit_rows() and gpu_rows.published_rows()  # both load: no held-out row refused


def test_a_published_row_from_deeplearningexamples_is_refused(tmp_path):
    (gpu_rows,) = bench_modules("gpu_rows")
    text = (PROFILES / "published_throughput.csv").read_text(encoding="utf-8")
    header, first = text.splitlines()[:2]
    row = dict(zip(next(csv.reader([header])), next(csv.reader([first])), strict=True))
    row.update(source="nvidia-dle", url=DLE_URL)
    path = tmp_path / "published_throughput.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    with pytest.raises(PredictionError, match="comes from NVIDIA DeepLearningExamples, a held-out source"):
        gpu_rows.published_rows(path)


def test_a_reference_row_from_neusight_is_refused(tmp_path):
    text = (PROFILES / C.REFERENCE_FILE).read_text(encoding="utf-8").splitlines()
    path = tmp_path / "bench.csv"
    path.write_text("\n".join([text[0], "NeuSight labels" + text[1][text[1].index(",ResNet"):]]) + "\n")
    with pytest.raises(PredictionError, match="NeuSight, a held-out source"):
        C.load_fit_rows([path])


def test_the_fit_refuses_held_out_rows_before_fitting():
    gpu_rows, heldout_gpu = bench_modules("gpu_rows", "heldout_gpu")
    rows = heldout_gpu.rows()[:2]

    def never(*_):
        raise AssertionError("a held-out row was predicted for a fit")

    with pytest.raises(PredictionError, match="held-out source"):
        C.fit_general(rows, never, never)
