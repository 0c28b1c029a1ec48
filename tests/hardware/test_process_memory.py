"""The memory this process can get (``advisor.hardware.process_memory``): the least of the machine's, its
cgroup's (v2 and v1, every level up) and RLIMIT_AS's, and which one bound it. Fake cgroup trees under tmp_path,
and one real child process under an address-space limit."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import psutil

from advisor.hardware.process_memory import ADDRESS_SPACE, CGROUP, MACHINE, limit_note, process_memory

GIB = 1 << 30
ROOT = Path(__file__).resolve().parents[2]


def _host(total_gib: float = 64.0, available_gib: float = 60.0):
    return lambda: (total_gib * GIB, available_gib * GIB)


def _no_rlimit():
    return math.inf, 0.0


def _files(base: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _v2(tmp_path: Path, group: str, levels: dict[str, dict[str, str]]) -> Path:
    """A cgroup v2 tree: /proc/self/cgroup naming ``group``, each level's files under sys/fs/cgroup."""
    _files(tmp_path, {"proc/self/cgroup": f"0::{group}\n"})
    for level, files in levels.items():
        _files(tmp_path / "sys/fs/cgroup" / level.strip("/"), files)
    return tmp_path


def test_a_container_limit_bounds_both_figures_and_is_named(tmp_path):
    root = _v2(tmp_path, "/", {"/": {"memory.max": str(2 * GIB), "memory.current": str(GIB // 2),
                                     "memory.stat": f"anon 100\ninactive_file {GIB // 4}\nactive_file 5\n"}})
    mem = process_memory(root, _no_rlimit, _host())
    assert (mem.total.bytes, mem.total.bound) == (2 * GIB, CGROUP)
    # 2 GiB less the 0.25 GiB in use: the inactive file cache is reclaimed before the kernel kills.
    assert (mem.available.bytes, mem.available.bound) == (1.75 * GIB, CGROUP)
    assert mem.available.limit_words() == "the container's memory limit (cgroup), 2.0 GiB"


def test_max_means_no_limit_and_the_machine_binds(tmp_path):
    root = _v2(tmp_path, "/", {"/": {"memory.max": "max\n", "memory.current": str(GIB)}})
    mem = process_memory(root, _no_rlimit, _host(64.0, 60.0))
    assert (mem.total.bytes, mem.total.bound) == (64 * GIB, MACHINE)
    assert (mem.available.bytes, mem.available.bound) == (60 * GIB, MACHINE)
    assert mem.available.limit_words() == ""


def test_a_parent_cgroups_limit_bounds_its_child(tmp_path):
    root = _v2(tmp_path, "/system.slice/ci.service", {
        "/": {},  # the root cgroup has no memory.max
        "/system.slice": {"memory.max": str(3 * GIB), "memory.current": str(2 * GIB)},
        "/system.slice/ci.service": {"memory.max": "max", "memory.current": str(GIB)},
    })
    mem = process_memory(root, _no_rlimit, _host())
    assert (mem.total.bytes, mem.total.bound) == (3 * GIB, CGROUP)
    assert mem.available.bytes == 1 * GIB  # the slice's 3 GiB less the 2 its processes use


def test_a_host_path_missing_under_the_mount_reads_the_containers_own_cgroup(tmp_path):
    root = _v2(tmp_path, "/kubepods/pod1/abc", {"/": {"memory.max": str(4 * GIB), "memory.current": "0"}})
    assert process_memory(root, _no_rlimit, _host()).total.bytes == 4 * GIB


def test_cgroup_v1_limit_and_its_unlimited_sentinel(tmp_path):
    _files(tmp_path, {"proc/self/cgroup": "5:cpu,cpuacct:/\n4:memory:/docker/abc\n0::/\n",
                      "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": str(2 * GIB),
                      "sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes": str(GIB),
                      "sys/fs/cgroup/memory/docker/abc/memory.stat":
                          f"inactive_file 9\ntotal_inactive_file {GIB // 2}\n",
                      "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"})
    mem = process_memory(tmp_path, _no_rlimit, _host())
    assert (mem.total.bytes, mem.total.bound) == (2 * GIB, CGROUP)
    assert mem.available.bytes == 1.5 * GIB
    (tmp_path / "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert process_memory(tmp_path, _no_rlimit, _host()).total.bound == MACHINE


def test_rlimit_as_bounds_by_its_headroom(tmp_path):
    mem = process_memory(tmp_path, lambda: (8.0 * GIB, 3.0 * GIB), _host())  # no cgroup files at all
    assert (mem.total.bytes, mem.total.bound) == (8 * GIB, ADDRESS_SPACE)
    assert (mem.available.bytes, mem.available.bound) == (5 * GIB, ADDRESS_SPACE)
    assert mem.available.limit_words() == "the process's address-space limit (ulimit -v, RLIMIT_AS), 8.0 GiB"


def test_the_tightest_limit_wins(tmp_path):
    root = _v2(tmp_path, "/", {"/": {"memory.max": str(2 * GIB), "memory.current": "0"}})
    mem = process_memory(root, lambda: (8.0 * GIB, 7.5 * GIB), _host())
    assert (mem.total.bound, mem.available.bound) == (CGROUP, ADDRESS_SPACE)  # 2 GiB held; 0.5 GiB left to map
    assert mem.available.bytes == 0.5 * GIB


def test_unreadable_cgroup_files_leave_the_machine(tmp_path):
    root = _v2(tmp_path, "/", {"/": {"memory.max": "garbage", "memory.current": "x"}})
    assert process_memory(root, _no_rlimit, _host()).total.bound == MACHINE


def test_the_limit_note_names_the_limit():
    assert limit_note(2.0, CGROUP) == ("this machine's memory is judged at 2.0 GiB, the container's memory limit "
                                       "(cgroup) the probe ran under, not its RAM: a job here gets no more.")


def _run_under_ulimit_v(code: str, limit_bytes: int, timeout: int) -> subprocess.CompletedProcess:
    """``code`` in a fresh Python whose address space is capped at ``limit_bytes`` (``ulimit -v``)."""
    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)


LIMIT_BYTES = 1 << 30


def test_a_real_process_under_ulimit_v_reports_no_more_than_its_limit():
    code = ("import json; from advisor.hardware.process_memory import process_memory; m = process_memory(); "
            "print(json.dumps([m.total.bytes, m.total.bound, m.available.bytes, m.available.bound]))")
    done = _run_under_ulimit_v(code, LIMIT_BYTES, timeout=120)
    assert done.returncode == 0, done.stderr
    total, total_bound, available, available_bound = json.loads(done.stdout)
    assert total <= LIMIT_BYTES and available < LIMIT_BYTES  # the child maps some of it already
    assert available > 0
    if total_bound != CGROUP:  # a CI container tighter than 1 GiB would bind instead
        assert (total, total_bound) == (LIMIT_BYTES, ADDRESS_SPACE)


CPU_LIMIT_BYTES = 6 << 30  # room for torch's import (detect_cpu reads its threads)


def test_detect_cpu_under_ulimit_v_reports_the_limit_not_the_hosts_ram():
    code = ("import json; from advisor.hardware import detect_cpu; c = detect_cpu(); "
            "print(json.dumps([c.memory_gib, c.memory_limit]))")
    done = _run_under_ulimit_v(code, CPU_LIMIT_BYTES, timeout=300)
    assert done.returncode == 0, done.stderr
    memory_gib, limit = json.loads(done.stdout)
    assert memory_gib <= CPU_LIMIT_BYTES / GIB
    if psutil.virtual_memory().total > CPU_LIMIT_BYTES:  # the host's RAM would not bind first
        assert limit in (ADDRESS_SPACE, CGROUP)  # a container tighter than 6 GiB would bind first
