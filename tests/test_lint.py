"""The style gate runs with the suite: ruff over the package, tests, benchmarks and examples."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.fail("ruff is not installed: install the test extra (pip install -e '.[test]')")
    result = subprocess.run([ruff, "check", "advisor", "tests", "bench", "examples"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pynvml_only_in_nvml_seam():
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "advisor").rglob("*.py")
                 if p.name != "nvml.py" and any(line.strip().startswith(("import pynvml", "from pynvml"))
                                                for line in p.read_text().splitlines())]
    assert offenders == []


def test_help_does_not_import_torch():
    code = ("import sys; from advisor.cli.app import build_app; "
            "from typer.testing import CliRunner; r = CliRunner().invoke(build_app(), ['--help']); "
            "assert r.exit_code == 0, r.output; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
