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


# ------------------------------------------------------------------------------------------- structure

PACKAGE = REPO / "advisor"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
# Known exceptions, each with its reason (as zeus lists its lint ignores). Keys: "path" or "path:function".
SIZE_EXCEPTIONS: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The advisor modules a module imports, anywhere in it (inside functions and TYPE_CHECKING blocks too)."""
    import ast

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # "from advisor import api" imports the module advisor.api; "from advisor.x import y" the module
            # advisor.x.y if there is one, else a name of advisor.x.
            candidates = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                          for alias in node.names]
        else:
            continue
        for cand in candidates:
            # "from advisor.x import y": y may be a module or a name in advisor.x; take the longest known module.
            while cand and cand not in known:
                cand = cand.rpartition(".")[0]
            if cand and cand != name:
                found.add(cand)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    graph = {name: _imports(path, name, known) for name, path in mods.items()}
    # A package's __init__ is loaded by importing any of its modules, but that is Python's doing, not an edge
    # the code draws; only explicit imports count.
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


# Edges a layer rule would forbid, each with its reason.
ALLOWED_EDGES: dict[str, tuple[str, ...]] = {
    # The offline calibration fit is a developer's tool, run by hand (`python -m
    # advisor.predictor.calibration_fit --fit`): it analyses the reference models, which runs them. The runtime
    # predictor never imports it.
    "advisor.predictor.calibration_fit": ("advisor.probe.analysis", "advisor.workload"),
}


def test_nothing_at_runtime_imports_the_calibration_fit_tool():
    graph = _graph()
    assert sorted(m for m, deps in graph.items() if "advisor.predictor.calibration_fit" in deps) == []


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("advisor.ranking", ["advisor.predictor", "advisor.hardware", "advisor.probe", "advisor.history",
                         "advisor.workload", "advisor.api", "advisor.cli"]),
    ("advisor.predictor", ["advisor.probe", "advisor.workload", "advisor.pricing", "advisor.ranking",
                           "advisor.history", "advisor.api", "advisor.cli"]),
    ("advisor.probe", ["advisor.predictor", "advisor.pricing", "advisor.ranking", "advisor.history",
                       "advisor.api", "advisor.cli"]),
    ("advisor.pricing", ["advisor.predictor", "advisor.probe", "advisor.workload", "advisor.ranking",
                         "advisor.history", "advisor.api", "advisor.cli"]),
    ("advisor.history", ["advisor.cli", "advisor.api", "advisor.probe", "advisor.workload"]),
    ("advisor.workload", ["advisor.probe", "advisor.predictor", "advisor.pricing", "advisor.ranking",
                          "advisor.history", "advisor.api", "advisor.cli"]),
    ("advisor.hardware", ["advisor.probe", "advisor.predictor", "advisor.pricing", "advisor.ranking",
                          "advisor.history", "advisor.api", "advisor.cli", "advisor.workload"]),
    ("advisor.api", ["advisor.cli"]),
])
def test_imports_point_one_way(layer, forbidden):
    graph = _graph()
    wrong = sorted(f"{mod} -> {dep}" for mod, deps in graph.items() if _under(mod, layer)
                   for dep in deps if any(_under(dep, f) for f in forbidden)
                   and not any(_under(dep, f) for f in ALLOWED_EDGES.get(mod, ())))
    assert wrong == []


def test_ranking_imports_only_the_billing_part_of_pricing():
    deps = _graph()["advisor.ranking"]
    assert {d for d in deps if _under(d, "advisor.pricing")} <= {"advisor.pricing.billing"}


def test_pure_layers_load_no_torch():
    code = ("import sys, advisor.predictor.estimate, advisor.predictor.targets, advisor.ranking; "
            "print(sorted(m for m in ('torch', 'advisor.predictor', 'advisor.hardware.nvml', 'pynvml') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "torch" not in out.stdout


def test_public_api_functions_survive_the_packages_of_the_same_stem():
    code = ("import inspect, advisor, advisor.api, advisor.predictor, advisor.ranking; "
            "assert inspect.signature(advisor.predict) == inspect.signature(advisor.api.predict); "
            "assert inspect.signature(advisor.recommend) == inspect.signature(advisor.api.recommend); "
            "assert advisor.predict is advisor.api.predict and advisor.recommend is advisor.api.recommend")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr


def _sizes() -> tuple[list[str], list[str]]:
    import ast

    long_modules, long_functions = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(REPO))
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES and rel not in SIZE_EXCEPTIONS:
            long_modules.append(f"{rel}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and f"{rel}:{node.name}" not in SIZE_EXCEPTIONS:
                    long_functions.append(f"{rel}:{node.name}: {lines} lines")
    return long_modules, long_functions


def test_no_module_global_is_rebound():
    """No module-level singletons or mutable module globals (DESIGN.md): no function rebinds a module's name."""
    import ast

    offenders = [f"{path.relative_to(REPO)}:{node.lineno}" for path in PACKAGE.rglob("*.py")
                 for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Global)]
    assert offenders == []


def test_modules_and_functions_stay_small():
    long_modules, long_functions = _sizes()
    assert long_modules == [], f"modules over {MAX_MODULE_LINES} lines"
    assert long_functions == [], f"functions over {MAX_FUNCTION_LINES} lines"


def test_catch_alls_in_the_hardware_seam():
    count = sum(p.read_text().count("except Exception") for p in (PACKAGE / "hardware").rglob("*.py"))
    assert count <= 1  # the NVML shutdown, which must never fail the caller
