"""``make fuzz``: ten thousand mutants of the shipped workflows through the loader, ``validate``
and a save -> load -> save round trip, each in a worker process with a time limit.

    python tools/fuzz_workflows.py [--cases 10000] [--seed 1] [--jobs 2] [--timeout 10]
    python tools/fuzz_workflows.py --seed 1 --case 1234     # one case: what it is, what happens

Prints the counts by outcome (refused with NeuroFlow's own error, accepted and round-tripped, and
the failures: an exception that is not NeuroFlow's, a message that is not one printable line, a
configure bug, a round trip that is not byte-identical, a case over the time limit) with the first
example of each failure, and exits 1 on any failure. The mutations are in ``tools/fuzzing.py``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzzing  # noqa: E402  (beside this script)
from fuzzing import Case, Outcome, Tally  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per case")
    parser.add_argument("--case", type=int, help="run one case in this process and show it")
    options = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if options.case is not None:
        return _one(options.seed, options.case)

    from neuroflow.core.registry import default_registry

    default_registry()  # discovered once, before the workers fork
    sources = fuzzing.shipped_workflows()
    started = time.perf_counter()
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="neuroflow-fuzz-") as scratch:
        pool = _Pool(options.jobs, options.seed, sources, Path(scratch), options.timeout)
        for case, outcome in pool.run(range(options.cases)):
            tally.add(case, outcome)
            done = tally.total
            if done % 1000 == 0:
                print(f"  {done:,} cases, {tally.failed} failures, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    _report(tally, options, seconds)
    return 1 if tally.failed else 0


def _one(seed: int, index: int) -> int:
    case = fuzzing.make_case(seed, index)
    print(f"case {index} (seed {seed}): {case.source}, {len(case.data):,} bytes")
    for mutation in case.mutations:
        print(f"  {mutation}")
    with tempfile.TemporaryDirectory(prefix="neuroflow-fuzz-") as scratch:
        outcome = fuzzing.run_case(case, fuzzing.workspace(Path(scratch)))
    print(f"{outcome.kind} in {outcome.seconds:.2f} s: {outcome.error} {outcome.detail}")
    return 1 if outcome.failed else 0


def _report(tally: Tally, options: argparse.Namespace, seconds: float) -> None:
    print(f"{tally.total:,} cases (seed {options.seed}) in {seconds:.0f} s "
          f"({tally.total / max(seconds, 1e-9):.0f} per second, {options.jobs} worker processes)")
    for kind in ("refused", "accepted", *fuzzing.FAILURE_KINDS):
        count = tally.counts.get(kind, 0)
        label = {
            "refused": "refused with NeuroFlow's own error",
            "accepted": "accepted, validated and round-tripped",
            "uncaught": "uncaught exception (not NeuroFlow's)",
            "bad message": "error message not one printable line",
            "configure bug": "internal error while configuring",
            "round trip": "save -> load -> save not identical",
            "hang": f"over the {options.timeout:g} s limit",
        }[kind]
        print(f"  {count:>7,}  {label}")
    if tally.refused_by:
        print("  refused by: " + ", ".join(f"{name} {count:,}" for name, count in sorted(tally.refused_by.items())))
    for (kind, _), (count, index, source, mutations, detail) in tally.failures.items():
        print(f"FAILURE {kind} x{count}: first case {index} ({source}: {'; '.join(mutations)[:300]})")
        for line in detail.splitlines()[:3]:
            print(f"    {line}")
    print("result: " + ("FAILED" if tally.failed else "ok"))


class _Pool:
    """Worker processes fed one case at a time; one that overruns the limit is killed (and the
    case counted as a hang) and replaced."""

    def __init__(self, jobs: int, seed: int, sources: list[tuple[str, bytes]], scratch: Path,
                 timeout: float) -> None:
        self.jobs = max(1, jobs)
        self.seed = seed
        self.sources = sources
        self.scratch = scratch
        self.timeout = timeout
        self.context = multiprocessing.get_context("fork")
        self.spawned = 0

    def _spawn(self) -> tuple[multiprocessing.process.BaseProcess, Connection]:
        parent, child = self.context.Pipe()
        folder = self.scratch / f"worker{self.spawned}"
        self.spawned += 1
        process = self.context.Process(target=_worker, args=(child, self.seed, self.sources, folder), daemon=True)
        process.start()
        child.close()
        return process, parent

    def run(self, indices: range):  # type: ignore[no-untyped-def]
        pending = list(reversed(indices))
        workers: dict[Connection, list] = {}  # conn -> [process, index, started]
        try:
            while pending or any(w[1] is not None for w in workers.values()):
                while len(workers) < self.jobs and pending:
                    process, conn = self._spawn()
                    workers[conn] = [process, None, 0.0]
                for conn, state in workers.items():
                    if state[1] is None and pending:
                        state[1] = pending.pop()
                        state[2] = time.monotonic()
                        conn.send(state[1])
                busy = [c for c, s in workers.items() if s[1] is not None]
                if not busy:
                    break
                deadline = min(workers[c][2] for c in busy) + self.timeout
                ready = wait(busy, timeout=max(0.0, deadline - time.monotonic()))
                for conn in ready:
                    process, index, _ = workers[conn]
                    try:
                        kind, detail, error, seconds = conn.recv()
                    except (EOFError, OSError):  # the worker died: a crash of the interpreter itself
                        yield self._case(index), Outcome("uncaught", f"worker process died (exit code {process.exitcode})")
                        self._retire(workers, conn)
                        continue
                    workers[conn][1] = None
                    yield self._case(index), Outcome(kind, detail, error, seconds)
                now = time.monotonic()
                for conn in [c for c in busy if c not in ready and now - workers[c][2] >= self.timeout]:
                    index = workers[conn][1]
                    self._retire(workers, conn)
                    yield self._case(index), Outcome("hang", f"over {self.timeout:g} s", seconds=self.timeout)
        finally:
            for conn in list(workers):
                self._retire(workers, conn)

    def _case(self, index: int) -> Case:
        return fuzzing.make_case(self.seed, index, self.sources)

    @staticmethod
    def _retire(workers: dict[Connection, list], conn: Connection) -> None:
        process = workers.pop(conn)[0]
        if process.is_alive():
            process.kill()
        process.join(5)
        conn.close()


def _worker(conn: Connection, seed: int, sources: list[tuple[str, bytes]], folder: Path) -> None:
    folder = fuzzing.workspace(folder)
    while True:
        try:
            index = conn.recv()
        except EOFError:
            return
        case = fuzzing.make_case(seed, index, sources)
        outcome = fuzzing.run_case(case, folder)
        conn.send((outcome.kind, outcome.detail, outcome.error, outcome.seconds))


if __name__ == "__main__":
    sys.exit(main())
