"""Slots per agent type follow the CPUs a process may really use, a pod's CPU limit included."""

from pathlib import Path

import pytest

from agents.concurrency import cgroup_cpu_quota, slots


@pytest.mark.parametrize(("text", "cpus"), [("200000 100000\n", 2.0), ("50000 100000\n", 0.5), ("max 100000\n", None),
                                            ("garbage\n", None), ("1 0\n", None)])
def test_a_cgroup_cpu_limit_is_read_as_cpus(tmp_path: Path, text: str, cpus: float | None) -> None:
    (tmp_path / "cpu.max").write_text(text)
    assert cgroup_cpu_quota(tmp_path / "cpu.max") == cpus


def test_no_cgroup_file_is_no_limit(tmp_path: Path) -> None:
    assert cgroup_cpu_quota(tmp_path / "cpu.max") is None


def test_evolution_gets_a_slot_per_core_up_to_the_setting() -> None:
    assert slots("evolution", 5, n_cores=2) == 2
    assert slots("evolution", 5, n_cores=64) == 5
    assert slots("evolution", 5, n_cores=1) == 1
