"""The Holzinger-Swineford CFA: trajmix's sem beside semopy, in one run.

* compile time of the first fit (once per model structure and data shape);
* a warm single fit (estimates, SEs and fit measures for trajmix; semopy's ``fit``
  plus ``inspect`` for its SEs and ``calc_stats``);
* 1000 bootstrap refits: trajmix ``fit_many`` on 1000 resampled data frames in one
  compiled call (as called by default: the results compute their standard errors
  when first read, so this row is the estimates and the results; then the same
  call followed by every result's ``bse``, one batched computation of all the
  information matrices; and with ``se="none"``: estimates only, what
  semopy's ``fit`` and lavaan's ``bootstrapLavaan`` compute per draw), trajmix
  ``bootstrap`` (case weights, warm-started), and semopy fitting the resampled frames
  one by one (a subset, scaled to 1000) in two ways: a new ``semopy.Model`` per frame
  (each fit from semopy's default starts), and one ``Model`` refitted frame after
  frame, which by semopy's default (``clean_slate=False``) starts each fit at the
  previous estimates (about 22 SLSQP iterations instead of 32: 5.0 against 8.1 ms
  per refit). trajmix's batched refits start warm as well (at a pilot estimate), so
  the refitted Model is the like-for-like peer.

The batched calls and semopy's refits alternate in rounds (``--rounds``, default 3):
each round times one call of each trajmix kind and then semopy's refits, and its
ratios are taken within it; the table gives the medians and the ratios' range over
the rounds. The VM's speed drifts by tens of per cent within a minute, so times taken
minutes apart would compare the drift as much as the code.

    python bench/sem_bench.py [--boot 1000] [--semopy-fits 50] [--rounds 3]

semopy is optional (``pip install semopy``); without it only trajmix's times print.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TRAJMIX_COMPILE_CACHE", "off")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from sem import Model  # noqa: E402
from sem.datasets import load  # noqa: E402
from sem.jaxconfig import jax  # noqa: E402

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def timed(fn, reps=1):
    t0 = time.perf_counter()
    for _ in range(reps):
        out = fn()
    return (time.perf_counter() - t0) / reps, out


SEMOPY = r"""
import sys, time, warnings, json
import numpy as np, pandas as pd, semopy
warnings.filterwarnings("ignore")
hs = pd.read_csv(sys.argv[1]); boot, k, do_warm = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
rng = np.random.default_rng(0)
frames = [hs.iloc[rng.integers(0, len(hs), len(hs))].reset_index(drop=True) for _ in range(boot)]
def fit(df):
    m = semopy.Model(HS); m.fit(df); return m
def full():
    m = fit(hs); m.inspect(); semopy.calc_stats(m); return m
m = full()
warm = None
if do_warm:
    t = time.perf_counter()
    for _ in range(10): m = full()
    warm = (time.perf_counter() - t) / 10
fit(frames[0])
t = time.perf_counter()
for f in frames[:k]: fit(f)
per = (time.perf_counter() - t) / k
# one Model refitted: semopy's default (clean_slate=False) starts each fit at the
# previous estimates, here the full sample's first, as trajmix's bootstrap does
mr = semopy.Model(HS); mr.fit(hs)
t = time.perf_counter()
for f in frames[:k]: mr.fit(f)
per_reused = (time.perf_counter() - t) / k
e = m.inspect(); x2 = e[(e.lval == "x2") & (e.op == "~")]["Estimate"].iloc[0]
print(json.dumps([warm, per, k, float(x2), per_reused]))
"""


def _semopy_times(boot, k, warm=True):
    """semopy in its own interpreter (no JAX threads beside it), on the same data:
    [warm full fit (None unless ``warm``), seconds per refit of k resampled frames with
    a new Model each (cold starts), k, visual=~x2, seconds per refit of the same frames
    by one Model refitted (semopy's default warm start from the previous estimates)],
    or None without semopy."""
    import json
    import subprocess

    try:
        import semopy  # noqa: F401
    except ImportError:
        print("semopy not installed: peer skipped (pip install semopy)")
        return None
    path = _hs_path()
    # single-threaded BLAS is semopy's best setting: its matrices are tiny, and with
    # threaded BLAS it ran 5-15x slower on the 2-core machine
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", SEMOPY, path, str(boot), str(k),
                          "1" if warm else "0"],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


LAVAAN = r"""
suppressMessages(library(lavaan))
a <- commandArgs(TRUE); hs <- read.csv(a[1]); k <- as.integer(a[2])
HS <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
full <- function() { f <- cfa(HS, data = hs); fitMeasures(f); f }
invisible(full())
t <- proc.time()[["elapsed"]]; for (i in 1:10) f <- full()
warm <- (proc.time()[["elapsed"]] - t) / 10
t <- proc.time()[["elapsed"]]; b <- bootstrapLavaan(f, R = k, parallel = "no")
per <- (proc.time()[["elapsed"]] - t) / k
cat(sprintf("%.6f %.6f %d %.6f\n", warm, per, k, coef(f)[["visual=~x2"]]))
"""


def _lavaan_times(k):
    """lavaan in R (skipped cleanly without Rscript or lavaan): a warm ``cfa`` with
    ``fitMeasures``, and ``bootstrapLavaan`` of k draws (serial)."""
    import shutil
    import subprocess

    if shutil.which("Rscript") is None:
        print("R not installed: lavaan peer skipped (apt-get install r-cran-lavaan)")
        return None
    out = subprocess.run(["Rscript", "-e", LAVAAN, _hs_path(), str(k)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print("lavaan peer skipped: " + out.stderr.strip().splitlines()[-1][:200])
        return None
    warm, per, k, x2 = out.stdout.split()
    return float(warm), float(per), int(k), float(x2)


def _hs_path():
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "sem", "datasets", "HolzingerSwineford1939.csv")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--semopy-fits", type=int, default=50)
    ap.add_argument("--lavaan-boot", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    hs = load("HolzingerSwineford1939")
    rng = np.random.default_rng(0)
    frames = [hs.iloc[rng.integers(0, len(hs), len(hs))].reset_index(drop=True)
              for _ in range(args.boot)]
    m = Model(HS)

    def full_fit():
        r = m.fit(hs)
        _ = r.bse, r.fit_measures
        return r

    cold, _ = timed(full_fit)
    warm, res = timed(full_fit, reps=20)
    rows = [("trajmix: first fit (compiles)", cold, 1), ("trajmix: warm fit", warm, 1)]
    # one call of each timed shape compiles; the timed calls reuse it
    cold_many, many = timed(lambda: m.fit_many(frames, warn=False))
    m.fit_many(frames, warn=False, se="none")
    cold_boot, boot = timed(lambda: m.bootstrap(hs, args.boot, seed=2))
    rows += [(f"trajmix: fit_many of {args.boot}, first call (compiles)", cold_many, 1),
             (f"trajmix: bootstrap({args.boot}), first call (compiles)", cold_boot, 1)]

    # Rounds: the three batched calls, then semopy's refits one by one, each round's
    # ratios within it. The VM's speed drifts by tens of per cent within a minute, so
    # a ratio of times taken minutes apart measures the drift as much as the code.
    def with_ses():
        out = m.fit_many(frames, warn=False)
        return [r.bse for r in out]                # every result's SEs: one batch

    kinds = ("fit_many", "with SEs", "estimates only", "bootstrap")
    calls = (lambda: m.fit_many(frames, warn=False), with_ses,
             lambda: m.fit_many(frames, warn=False, se="none"),
             lambda: m.bootstrap(hs, args.boot, seed=1))
    ours = {k: [] for k in kinds}
    ratios = {k: [] for k in kinds}            # against a new semopy Model per frame
    ratios_reused = {k: [] for k in kinds}     # against one Model refitted (warm starts)
    s_warm, s_per, s_reused, x2, have_peer = None, [], [], None, True
    for r in range(args.rounds):
        for kind, call in zip(kinds, calls):
            # the mean of three calls, so that both sides of a round's ratio average
            # over a like stretch of wall time (semopy's refits take 0.2-0.4 s a round;
            # one 40-100 ms call made the rounds' range mostly trajmix's own noise)
            ours[kind].append(timed(call, reps=3)[0] / args.boot)
        peer = _semopy_times(args.boot, args.semopy_fits, warm=(r == 0)) if have_peer else None
        if peer is None:
            have_peer = False
            continue
        if r == 0:
            s_warm, x2 = peer[0], peer[3]
        s_per.append(peer[1])
        s_reused.append(peer[4])
        for kind in kinds:
            ratios[kind].append(peer[1] / ours[kind][-1])
            ratios_reused[kind].append(peer[4] / ours[kind][-1])
    med = {k: float(np.median(v)) for k, v in ours.items()}
    rows += [(f"trajmix: fit_many of {args.boot} resampled frames", med["fit_many"] *
              args.boot, args.boot),
             ("trajmix: the same, and every result's bse", med["with SEs"] * args.boot,
              args.boot),
             ("trajmix: the same, estimates only (se='none')",
              med["estimates only"] * args.boot, args.boot),
             (f"trajmix: bootstrap({args.boot}) by case weights",
              med["bootstrap"] * args.boot, args.boot)]
    conv_many = np.mean([r.converged for r in many])
    if s_per:
        k = args.semopy_fits
        rows.insert(2, ("semopy: fit + inspect + calc_stats", s_warm, 1))
        rows.append((f"semopy: {k} resampled frames, a new Model each", float(np.median(s_per)) * k,
                     k))
        rows.append(("semopy: the same, one Model refitted (warm starts)",
                     float(np.median(s_reused)) * k, k))
        print(f"check: visual=~x2 trajmix {res.params['visual=~x2']:.6f}, semopy {x2:.6f}")

    lav = _lavaan_times(args.lavaan_boot)
    if lav is not None:
        l_warm, l_per, lk, lx2 = lav
        rows.insert(2, ("lavaan: cfa + fitMeasures", l_warm, 1))
        rows.append((f"lavaan: bootstrapLavaan({lk}), serial", l_per * lk, lk))
        print(f"check: visual=~x2 trajmix {res.params['visual=~x2']:.6f}, lavaan {lx2:.6f}")

    print(f"\nHolzinger-Swineford CFA (21 parameters, n = 301); device: "
          f"{jax.devices()[0].platform}, {os.cpu_count()} cores; batched calls and "
          f"semopy's refits: median of {args.rounds} rounds")
    print(f"{'':50}{'seconds':>10}{'ms per fit':>12}")
    for name, sec, n in rows:
        print(f"{name:50}{sec:10.3f}{sec / n * 1e3:12.3f}")
    print(f"fit_many converged: {conv_many:.1%}; bootstrap converged: "
          f"{boot['converged'].mean():.1%}")
    if s_per:
        def rng_(v):
            return f"{np.median(v):.0f}x (rounds {min(v):.0f}-{max(v):.0f})"
        print(f"\nratios: warm single fit, semopy / trajmix = {s_warm / warm:.1f}x")
        for label, rs in (("a new semopy Model per frame", ratios),
                          ("one semopy Model refitted, warm starts", ratios_reused)):
            print(f"per refit, {label} / trajmix, each round within itself: fit_many "
                  f"{rng_(rs['fit_many'])}, with every bse {rng_(rs['with SEs'])}, "
                  f"estimates only {rng_(rs['estimates only'])}, "
                  f"bootstrap {rng_(rs['bootstrap'])}")
    if lav is not None:
        print(f"ratios: warm single fit, lavaan / trajmix = {l_warm / warm:.1f}x; per "
              f"bootstrap draw, lavaan / trajmix bootstrap = "
              f"{l_per / med['bootstrap']:.0f}x")


if __name__ == "__main__":
    main()
