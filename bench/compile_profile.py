"""Where the test suite's time goes: a pytest plugin that listens to JAX's compile
events (per test: wall time, XLA compile seconds and count, tracing and lowering
seconds; per compiled function: count and seconds) and a report of the result.

    PYTHONPATH=bench TRAJMIX_COMPILE_CACHE=off COMPILE_PROFILE_OUT=/tmp/cp.json \\
        .venv/bin/python -m pytest -p no:xdist -p compile_profile
    .venv/bin/python bench/compile_profile.py /tmp/cp.json

(one process: each xdist worker would write its own file). With it, 2026-12-07: of
722 s, XLA compiled for 474 s and JAX traced and lowered for 138 s (docs/design.md).
"""
from __future__ import annotations

import collections
import json
import os
import sys
import time

_current = {"test": "<collection>"}
_tests = collections.defaultdict(collections.Counter)
_funs = collections.defaultdict(lambda: [0, 0.0])


def _listener(event, duration, **kw):
    t = _tests[_current["test"]]
    if event.endswith("backend_compile_duration"):
        t["compile"] += duration
        t["n"] += 1
        f = _funs[kw.get("fun_name", "?")]
        f[0] += 1
        f[1] += duration
    elif event.endswith("jaxpr_trace_duration"):
        t["trace"] += duration
    elif event.endswith("jaxpr_to_mlir_module_duration"):
        t["lower"] += duration


def pytest_configure(config):
    import jax.monitoring

    jax.monitoring.register_event_duration_secs_listener(_listener)


def pytest_runtest_protocol(item, nextitem):
    _current["test"] = item.nodeid
    _tests[item.nodeid]["start"] = time.perf_counter()


def pytest_runtest_logfinish(nodeid, location):
    t = _tests[nodeid]
    t["wall"] += time.perf_counter() - t.pop("start", time.perf_counter())
    _current["test"] = "<between tests>"


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("COMPILE_PROFILE_OUT", "compile_profile.json")
    with open(out, "w") as f:
        json.dump({"tests": {k: dict(v) for k, v in _tests.items()},
                   "funs": dict(_funs)}, f)


def report(path: str, top: int = 30) -> None:
    d = json.load(open(path))
    total = collections.Counter()
    modules = collections.defaultdict(collections.Counter)
    for name, v in d["tests"].items():
        total.update(v)
        modules[name.split("::")[0]].update(v)
    print("total: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(total.items())))
    print(f"\n{'wall s':>8} {'compile s':>10} {'programs':>9}  module")
    for name, v in sorted(modules.items(), key=lambda kv: -kv[1]["wall"])[:top]:
        print(f"{v['wall']:8.1f} {v['compile']:10.1f} {v['n']:9.0f}  {name}")
    print(f"\n{'compile s':>10} {'programs':>9}  compiled function")
    for name, (n, s) in sorted(d["funs"].items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"{s:10.1f} {n:9d}  {name}")


if __name__ == "__main__":
    report(sys.argv[1] if len(sys.argv) > 1 else "compile_profile.json")
