"""The one-class bilinear spline with an unknown knot on the ECLS-K:2011 math sample
(500 children, nine waves, individual measurement times as definition variables):
trajmix beside OpenMx (the engine of the authors' nlpsem), same data, same likelihood,
in one run.

    python bench/openmx_bench.py

OpenMx runs through ``Rscript bench/r/openmx_bilinear.R`` (apt-get install r-base-core
r-cran-openmx); without R the peer is skipped. OpenMx fits one start with its default
optimizer (SLSQP, numerical derivatives); trajmix is timed cold (compiles), warm with
one start and warm with 20 starts.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

os.environ.setdefault("TRAJMIX_COMPILE_CACHE", "off")   # "cold" must compile
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from trajmix import GrowthMixture  # noqa: E402
from trajmix.datasets import load  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CSV = os.path.join(os.path.dirname(HERE), "trajmix", "datasets", "ecls_k2011_rms_sample.csv")


def openmx():
    if shutil.which("Rscript") is None:
        print("R not installed: OpenMx peer skipped (apt-get install r-cran-openmx)")
        return None
    out = subprocess.run(["Rscript", os.path.join(HERE, "r", "openmx_bilinear.R"), CSV],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print("OpenMx peer skipped: " + (out.stderr.strip().splitlines() or ["?"])[-1])
        return None
    m2ll, secs, knot = map(float, out.stdout.split())
    return m2ll, secs, knot


def main():
    df = load("ecls_k2011")
    for j in range(1, 10):
        df[f"t{j}"] = df[f"T{j}"] - df["T1"]
    y, t = [f"M{j}" for j in range(1, 10)], [f"t{j}" for j in range(1, 10)]
    m = GrowthMixture("bilinear_spline", 1)
    rows = []
    for label, starts in [("trajmix, 1 start, cold (compiles)", 1),
                          ("trajmix, 1 start, warm", 1), ("trajmix, 20 starts, cold", 20),
                          ("trajmix, 20 starts, warm", 20)]:
        t0 = time.perf_counter()
        r = m.fit(df, y=y, t=t, n_starts=starts, seed=0, warn=False)
        _ = r.bse
        rows.append((label, time.perf_counter() - t0, -2 * r.llf,
                     float(r.params["c1.knot"])))
    peer = openmx()
    if peer is not None:
        rows.append(("OpenMx 2.21, 1 start (SLSQP)", peer[1], peer[0], peer[2]))
    print("\none-class bilinear spline, ECLS-K:2011 math (n = 500, J = 9, 11 parameters)")
    print(f"{'':40}{'seconds':>10}{'-2LL':>14}{'knot':>10}")
    for label, secs, m2ll, knot in rows:
        print(f"{label:40}{secs:10.3f}{m2ll:14.4f}{knot:10.4f}")
    if peer is not None:
        warm1, warm20 = rows[1][1], rows[3][1]
        print(f"\nratios: OpenMx 1 start / trajmix 1 start warm = {peer[1] / warm1:.0f}x; "
              f"OpenMx x 20 starts / trajmix 20 starts warm = {20 * peer[1] / warm20:.0f}x; "
              f"|d(-2LL)| = {abs(peer[0] - rows[1][2]):.1e}")


if __name__ == "__main__":
    main()
