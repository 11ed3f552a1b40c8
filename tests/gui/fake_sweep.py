"""A stand-in for ``neuroflow sweep --json`` that the Sweep dialog's tests start instead.

It takes the real command's arguments (after ``--mode MODE``), reads the ``--param`` specs and
``--trials`` and prints the sweep contract's lines with short pauses, drawing each parameter's
value from its range or list the way a sampler would (deterministically, by trial number):

* ``ok``: every trial completes; ``mixed``: trial 2 is pruned and trial 3 fails;
* ``error``: an error event and exit code 2, as for a bad spec;
* ``die``: a study and a running trial, then a traceback on stderr and exit code 1;
* ``hang``: a study and a running trial, then it waits (until it is stopped);
* ``stubborn``: the same, deaf to SIGTERM (only a kill ends it).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time

PAUSE = 0.03


def say(event: dict) -> None:
    print(json.dumps(event), flush=True)
    time.sleep(PAUSE)


def number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def declaration(spec: str) -> dict:
    name, _, rule = spec.partition("=")
    if rule.startswith("log:"):
        low, high = rule[4:].split("..")
        return {"name": name, "kind": "log", "low": float(low), "high": float(high)}
    if ".." in rule:
        low, high = (number(t) for t in rule.split(".."))
        if isinstance(low, int) and isinstance(high, int):
            return {"name": name, "kind": "int", "low": low, "high": high, "step": 1}
        return {"name": name, "kind": "float", "low": float(low), "high": float(high), "step": None}
    choices = [number(t) if t.lstrip("-").replace(".", "", 1).isdigit() else t for t in rule.split(",")]
    return {"name": name, "kind": "choice", "choices": choices}


def sample(param: dict, trial: int, index: int) -> object:
    share = ((trial * (7 + 2 * index) + 3 * index) % 10) / 9
    if param["kind"] == "choice":
        return param["choices"][trial % len(param["choices"])]
    low, high = param["low"], param["high"]
    if param["kind"] == "log":
        return low * (high / low) ** share
    if param["kind"] == "int":
        return int(round(low + share * (high - low)))
    return low + share * (high - low)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="ok")
    parser.add_argument("command")
    parser.add_argument("file")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--sampler", default="tpe")
    parser.add_argument("--prune", action="store_true")
    parser.add_argument("--metric", default="val_accuracy")
    parser.add_argument("--storage", default="sqlite:///fake.sweeps.sqlite")
    parser.add_argument("--study", default="fake")
    args = parser.parse_args()
    if args.mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.mode == "error":
        say({"event": "error", "message": "dense.units: 5000 is out of range (1 to 4096)"})
        print("neuroflow: error: dense.units: 5000 is out of range (1 to 4096)", file=sys.stderr)
        return 2
    params = [declaration(spec) for spec in args.param]
    maximize = "loss" not in args.metric
    say({"event": "study", "study": args.study, "storage": args.storage, "metric": args.metric,
         "direction": "maximize" if maximize else "minimize", "trials": args.trials, "sampler": args.sampler,
         "prune": args.prune, "params": params, "existing": 0})
    best: dict | None = None
    counts = {"complete": 0, "pruned": 0, "failed": 0}
    for trial in range(args.trials):
        values = {p["name"]: sample(p, trial, i) for i, p in enumerate(params)}
        say({"event": "trial", "number": trial, "state": "running", "params": values})
        if args.mode == "die":
            print("Traceback (most recent call last):\n  File \"x.py\", line 1\nRuntimeError: the sweep broke",
                  file=sys.stderr, flush=True)
            return 1
        if args.mode in ("hang", "stubborn"):
            time.sleep(600)
        value = 0.8 + ((trial * 37) % 10) / 100
        state = "complete"
        if args.mode == "mixed" and trial == 2:
            state = "pruned"
        if args.mode == "mixed" and trial == 3:
            state = "failed"
        epochs = 1 if state == "pruned" else 2
        for epoch in range(1, epochs + 1 if state != "failed" else 1):
            say({"event": "epoch", "number": trial, "epoch": epoch, "value": value - 0.1 * (epochs - epoch)})
        counts[state] += 1
        final = value if state == "complete" else None
        say({"event": "trial", "number": trial, "state": state, "params": values, "value": final,
             "epochs": epochs if state != "failed" else 0, "run_id": trial + 1 if state != "failed" else None,
             "seconds": 1.5 + trial, "message": "out of memory" if state == "failed" else ""})
        if final is not None and (best is None or (final > best["value"]) == maximize):
            best = {"number": trial, "params": values, "value": final}
        if best is not None:
            say({"event": "best", **best})
    say({"event": "done", **counts, "best": best})
    return 0


if __name__ == "__main__":
    sys.exit(main())
