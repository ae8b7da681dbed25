"""The budget pool the pytest-xdist workers of one machine take from (engine.SharedBudget)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_ragprobe._xdist import _all_local, _worker_count
from pytest_ragprobe.engine import Budget, SharedBudget, pool_text, worker_budget

pytest.importorskip("fcntl")

# One worker: 4 threads taking units until the pool says no; prints how many it got.
WORKER = """
import sys, threading
from pathlib import Path
from pytest_ragprobe.engine import SharedBudget

budget = SharedBudget(int(sys.argv[2]), Path(sys.argv[1]))

def spend():
    while budget.take():
        pass

threads = [threading.Thread(target=spend) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(budget.used)
"""


def pool(tmp_path: Path) -> Path:
    path = tmp_path / "budget"
    path.write_bytes(pool_text(0))
    return path


def count(path: Path) -> int:
    text = path.read_text(encoding="ascii")
    assert len(text) == 20 and text.isdigit(), text  # always a whole count
    return int(text)


def test_processes_taking_from_one_pool_take_exactly_its_limit(tmp_path: Path) -> None:
    path = pool(tmp_path)
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(path), "3000"], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:  # (a pool that loses counts never runs out: the timeout ends the test, the finally the workers)
        used = [int(p.communicate(timeout=120)[0]) for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert sum(used) == 3000  # no unit lost or taken twice between 3 processes x 4 threads
    assert count(path) == 3000


def test_a_worker_may_spend_more_than_an_even_share_and_refunds_go_back_to_the_pool(tmp_path: Path) -> None:
    path = pool(tmp_path)
    a, b = SharedBudget(10, path), SharedBudget(10, path)
    assert all(a.take() for _ in range(8))  # more than its share: b has not needed its own
    assert not a.exhausted
    assert b.take() and b.take() and not b.take() and a.exhausted and b.exhausted
    a.refund()
    assert (a.used, b.used, count(path)) == (7, 2, 9)
    assert b.take() and not a.take()


@pytest.mark.parametrize("damage", ["removed", "emptied"])
def test_a_pool_that_fails_mid_run_counts_as_spent(tmp_path: Path, damage: str) -> None:
    # Was: an empty file read as 0 and the pool was handed out again (a worker killed between truncating
    # and writing it: 160 calls on a budget of 130), and a lost pool gave the worker its share again.
    path = pool(tmp_path)
    a, b = SharedBudget(10, path), SharedBudget(10, path)
    assert all(a.take() for _ in range(8))
    path.unlink() if damage == "removed" else path.write_bytes(b"")
    assert not b.take() and not a.take() and a.exhausted and b.exhausted  # never more than the budget
    assert (a.used, b.used) == (8, 0)


# A worker killed while its threads take units (os._exit, as a crash or pytest-timeout would end it).
KILLED = WORKER.replace("print(budget.used)", "").replace(
    "for t in threads:\n    t.join()", "import os, time\ntime.sleep(0.05)\nos._exit(3)"
)


def test_a_worker_killed_mid_update_leaves_a_whole_count(tmp_path: Path) -> None:
    path = pool(tmp_path)
    for _ in range(6):
        subprocess.run([sys.executable, "-c", KILLED, str(path), "100000000"], timeout=60, check=False)
        count(path)  # twenty digits every time: never empty, never half written
    assert 0 < count(path) < 100000000


def test_worker_budget_uses_the_pool_only_where_it_exists(tmp_path: Path) -> None:
    assert type(worker_budget(None)) is Budget and worker_budget(None).limit is None
    assert worker_budget(100).limit == 100  # not an xdist worker: the whole budget
    elsewhere = worker_budget(100, 50, str(tmp_path / "missing"))  # a worker on another machine
    assert type(elsewhere) is Budget and elsewhere.limit == 50
    shared = worker_budget(100, 50, str(pool(tmp_path)))
    assert isinstance(shared, SharedBudget) and shared.limit == 100  # the whole budget, pooled


@pytest.mark.parametrize(
    ("tx", "local"),
    [
        (["popen", "popen"], True),  # -n 2
        (["2*popen"], True),
        (["popen//python=python3.11"], True),
        (["ssh=ci-box//python=python3"], False),
        (["popen", "socket=10.0.0.7:8888"], False),  # one remote worker: no pool for any (it would overspend)
        (["python=/usr/bin/python3//popen"], True),  # was: taken for a remote worker
    ],
)
def test_the_pool_is_offered_only_when_every_worker_is_on_this_machine(tx: list[str], local: bool) -> None:
    assert _all_local(SimpleNamespace(option=SimpleNamespace(tx=tx))) is local  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tx", "workers"), [(["2*ssh=ci-box"], 2), (["ssh=a", "3*socket=b:1"], 4), (["popen"], 1), ([], 1)]
)
def test_even_shares_count_every_worker_of_a_multiplied_spec(tx: list[str], workers: int) -> None:
    # Was: "--tx 2*ssh=..." counted as one worker, so each of the two got the whole budget.
    config = SimpleNamespace(option=SimpleNamespace(numprocesses=None, tx=tx))
    assert _worker_count(config) == workers  # type: ignore[arg-type]
