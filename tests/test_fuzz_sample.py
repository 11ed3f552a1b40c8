"""A seeded sample of ``make fuzz``: mutants of the shipped workflows are refused with NeuroFlow's
own one-line error, or load, validate, print and round-trip byte for byte."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
CASES = 500
SEED = 2024


@pytest.fixture(scope="module")
def fuzzing() -> ModuleType:
    path = REPO / "tools" / "fuzzing.py"
    spec = importlib.util.spec_from_file_location("fuzzing", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzzing"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("fuzzing", None)


def test_cases_are_reproducible_from_seed_and_number(fuzzing: ModuleType) -> None:
    first = [fuzzing.make_case(SEED, index) for index in range(40)]
    again = [fuzzing.make_case(SEED, index) for index in range(40)]
    assert [c.data for c in first] == [c.data for c in again]
    assert [c.mutations for c in first] == [c.mutations for c in again]
    other = [fuzzing.make_case(SEED + 1, index) for index in range(40)]
    assert [c.data for c in first] != [c.data for c in other]
    sources = {name: data for name, data in fuzzing.shipped_workflows()}
    assert all(case.data != sources[case.source] for case in first)  # every case is a mutant


def test_a_seeded_sample_of_mutants_has_no_failure(fuzzing: ModuleType, tmp_path: Path) -> None:
    folder = fuzzing.workspace(tmp_path)
    tally = fuzzing.Tally()
    slowest = 0.0
    for index in range(CASES):
        case = fuzzing.make_case(SEED, index)
        outcome = fuzzing.run_case(case, folder)
        tally.add(case, outcome)
        slowest = max(slowest, outcome.seconds)
    failures = [f"{kind} x{count}, case {index} ({'; '.join(mutations)}): {detail}"
                for (kind, _), (count, index, _source, mutations, detail) in tally.failures.items()]
    assert not failures, "\n".join(failures)
    assert tally.total == CASES
    # Both outcomes must be well represented, or the sample tests little.
    assert tally.counts.get("refused", 0) >= CASES // 2, tally.counts
    assert tally.counts.get("accepted", 0) >= CASES // 20, tally.counts
    assert set(tally.refused_by) == {"WorkflowFileError"}, tally.refused_by
    assert slowest < 10.0


def test_the_harness_catches_what_it_is_for(fuzzing: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The judge itself: an exception that is not NeuroFlow's, a two-line message and a round trip
    that changes the file are each reported as failures."""
    from neuroflow.core import fileformat
    from neuroflow.core.errors import WorkflowFileError

    folder = fuzzing.workspace(tmp_path)
    case = fuzzing.make_case(SEED, 0)
    original = fileformat.load

    def crash(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(fileformat, "load", crash)
    assert fuzzing.run_case(case, folder).kind == "uncaught"

    def two_lines(*args: object, **kwargs: object) -> None:
        raise WorkflowFileError("first\nsecond")

    monkeypatch.setattr(fileformat, "load", two_lines)
    assert fuzzing.run_case(case, folder).kind == "bad message"

    saves = []

    def unstable_dumps(workflow: object) -> str:
        saves.append(1)
        return original_dumps(workflow).replace('"format_version": 2', '"format_version": 2 ', len(saves) % 2)

    monkeypatch.setattr(fileformat, "load", original)
    original_dumps = fileformat.dumps
    monkeypatch.setattr(fileformat, "dumps", unstable_dumps)
    shipped = fuzzing.Case(SEED, -1, "mnist_cnn.workflow", ["none"], (REPO / "workflows" / "mnist_cnn.workflow").read_bytes())
    assert fuzzing.run_case(shipped, folder).kind == "round trip"
