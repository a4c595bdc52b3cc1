"""The main example (README: ``make demo``): Liu & Perera's workflow end to end on the
ECLS-K:2011 mathematics sample that trajmix ships (500 children, nine waves).

1. **Screen** 13 child and family covariates with a score-based SEM forest whose node
   model is a one-class bilinear-spline growth model of mathematics achievement
   (individual ages, an unknown knot), then Boruta's shadow-feature test.
2. **Keep** the covariates Boruta confirms (importance above every permuted copy in
   significantly more runs than chance, Bonferroni over the covariates); covariates
   still tentative when the runs run out are decided by Boruta's rough fix (median
   importance against the median shadow maximum).
3. **Enumerate** classes of the bilinear spline (K = 1..3, BIC) and fit the paper's four
   variants at the chosen K with the kept covariates in the gating and the expert networks.
4. **Print** the comparison table and the chosen model's estimates.
5. **Save** the figures (importance with the Boruta threshold, class trajectories,
   posterior probabilities, enumeration) and ``report.md`` to the output folder.

    python examples/main.py [--fast] [--out output/main] [--seed 0]

The expert covariates are conditioned on (``experts_likelihood="conditional"``, the
classic mixture of experts: p(y | x) = Σ_k π_k(x) f_k(y | x)) so that the four variants'
log-likelihoods are all of the outcomes given the covariates and BIC can choose among
them; ``examples/growth_mixture.py`` shows the paper's joint form. Time is months since
each child's first assessment (as nlpsem re-bases it). With the same seed two runs give
the same covariates, the same chosen model and the same log-likelihood.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

import pandas as pd  # noqa: E402

from forests import SEMForest  # noqa: E402
from sem_forest import CATEGORICAL, COVARIATES, ORDERED, load_data  # noqa: E402
from trajmix import GrowthMixture, enumerate_classes  # noqa: E402

M = [f"M{j}" for j in range(1, 10)]
T = [f"t{j}" for j in range(1, 10)]
RARE = 30          # categories with fewer children are pooled into "other"

#                   trees, Boruta runs, trees per Boruta run, K max, starts
SETTINGS = {False: (50, 10, 10, 3, 20), True: (8, 2, 4, 2, 3)}


def ecls_math() -> pd.DataFrame:
    """ECLS-K:2011 sample with times re-based to each child's first assessment and the
    categorical covariates typed (unordered: SEX, RACE, LOCALE, SCHOOL_TYPE; ordered:
    INCOME, EDU)."""
    df = load_data()                      # the covariates typed as in examples/sem_forest.py
    for j in range(1, 10):
        df[f"t{j}"] = df[f"T{j}"] - df["T1"]
    return df


class Step:
    """Prints what the pipeline is doing and how long each step took."""

    def __init__(self):
        self.t0 = time.perf_counter()

    def __call__(self, text):
        print(f"\n[{time.perf_counter() - self.t0:6.1f} s] {text}", flush=True)


def screen(df, n_trees, runs, boruta_trees, seed, progress):
    """Step 1: the SEM forest (score-based splits, mtry = 3) over all candidate
    covariates with a one-class bilinear spline as node model, then Boruta."""
    template = GrowthMixture("bilinear_spline", 1)
    forest = SEMForest(template, covariates=COVARIATES, n_trees=n_trees, mtry=3,
                       method="score", seed=seed, progress=progress,
                       prepare_options=dict(y=M, t=T)).fit(df)
    boruta = forest.boruta(max_runs=runs, n_trees=boruta_trees, seed=seed,
                           progress=progress)
    return forest, boruta.rough_fix()


def encode(df, kept):
    """Step 2: the kept covariates as model columns. Ratings and the ordered INCOME and
    EDU are standardised scores; an unordered covariate becomes indicator columns
    against its most frequent category, with categories of fewer than ``RARE``
    children pooled (a multinomial logit cannot estimate a handful of children's
    category). Returns the data with the new columns, the columns, and a table of
    what each kept covariate became."""
    out, cols, rows = df.copy(), [], []
    for c in kept:
        if c in CATEGORICAL:
            s = df[c].astype(str)
            counts = s.value_counts()
            rare = counts.index[counts < RARE]
            s = s.where(~s.isin(rare), "other")
            levels = s.value_counts().index.tolist()      # most frequent first = reference
            made = []
            for lev in levels[1:]:
                name = f"{c}_{lev}"
                out[name] = (s == lev).astype(float)
                made.append(name)
            rows.append(dict(covariate=c, coded_as=f"indicators vs {c}={levels[0]}"
                             + (f" (pooled into 'other': {', '.join(rare)})" if len(rare)
                                else ""), columns=", ".join(made)))
        else:
            x = df[c].cat.codes.astype(float) if c in ORDERED else df[c].astype(float)
            name = f"z_{c}"
            out[name] = (x - x.mean()) / x.std()
            made = [name]
            rows.append(dict(covariate=c, coded_as="standardised score", columns=name))
        cols += made
    return out, cols, pd.DataFrame(rows)


VARIANTS = ("finite mixture", "gating", "expert", "full MoE")


def four_variants(df, K, cols, n_starts, seed, enum_fit=None):
    """Step 3b: the paper's four variants with nested starts (as the authors' OpenMx
    code: every model also starts from the fits of the models nested in it)."""
    options = {"finite mixture": {}, "gating": dict(gating=cols),
               "expert": dict(experts=cols), "full MoE": dict(gating=cols, experts=cols)}
    fits = {}
    for name in VARIANTS:
        kw = options[name]
        if name == "finite mixture" and enum_fit is not None:
            fits[name] = enum_fit          # the enumeration already fitted it
            continue
        init = [f for f in fits.values()
                if set(f.model.gating) <= set(kw.get("gating", []))
                and set(f.model.experts) <= set(kw.get("experts", []))]
        fits[name] = GrowthMixture("bilinear_spline", K, experts_likelihood="conditional",
                                   **kw).fit(df, y=M, t=T, n_starts=n_starts, seed=seed,
                                             init=init or None, warn=False)
    rows = [dict(model=name, K=K, n_params=r.n_params, logL=r.llf, AIC=r.aic, BIC=r.bic,
                 entropy=r.entropy, converged=r.converged, replicated=r.replicated,
                 shares=" / ".join(f"{s:.2f}" for s in r.class_shares))
            for name, r in fits.items()]
    return pd.DataFrame(rows), fits


def boruta_reasons(boruta) -> pd.DataFrame:
    """Why each covariate was kept or dropped, in words."""
    t = boruta.table.sort_values("importance", ascending=False)
    thr = boruta.threshold
    why = []
    for name, r in t.iterrows():
        hits, runs = int(r["hits"]), int(r["runs"])
        if r["rough_fix"]:
            verdict = "kept" if r["decision"] == "confirmed" else "dropped"
            side = "above" if verdict == "kept" else "not above"
            why.append(f"{verdict}: undecided after {runs} runs ({hits} hits); median "
                       f"importance {side} the median shadow maximum (rough fix)")
        elif r["decision"] == "confirmed":
            why.append(f"kept: beat the best shadow in {hits} of {runs} runs "
                       f"(more than chance at alpha {boruta.alpha:g}, Bonferroni)")
        elif r["decision"] == "rejected":
            why.append(f"dropped: beat the best shadow in only {hits} of {runs} runs")
    return pd.DataFrame({"importance": t["importance"].round(2), "hits": t["hits"],
                         "runs": t["runs"], "decision": t["decision"], "why": why},
                        index=t.index).rename_axis("covariate").reset_index().assign(
        shadow_max=round(thr, 2))


def md_table(df: pd.DataFrame, digits=3) -> str:
    d = df.copy()
    for c in d.columns:
        if pd.api.types.is_float_dtype(d[c]):
            d[c] = d[c].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    head = "| " + " | ".join(map(str, d.columns)) + " |"
    rule = "|" + "|".join("---" for _ in d.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in d.to_numpy()]
    return "\n".join([head, rule] + body)


def write_report(out: Path, *, n, settings, reasons, coding, kept, enum, table, chosen,
                 best, elapsed, figures) -> Path:
    n_trees, runs, b_trees, k_max, n_starts = settings
    est = best.estimates[["class", "block", "name", "est", "se", "pvalue"]]
    lines = [
        "# trajmix: mixture-of-experts growth models of ECLS-K:2011 mathematics",
        "",
        f"{n} children, mathematics scores at nine waves (months since the first "
        "assessment). Workflow of Liu & Perera (Psychological Methods; arXiv "
        "2007.02432): screen covariates with an SEM forest, keep the ones Boruta "
        "confirms, enumerate classes, fit the four mixture variants.",
        "",
        "## 1. Covariate screening",
        "",
        f"SEM forest of {n_trees} score-based trees (mtry = 3) with a one-class "
        f"bilinear-spline growth model as node model; permutation importance on "
        f"out-of-bag children; Boruta with {runs} runs of {b_trees} trees.",
        "",
        md_table(reasons, 2),
        "",
        f"![importance]({figures['importance']})",
        "",
        "## 2. Covariates kept",
        "",
        (f"Kept: **{', '.join(kept)}**, because Boruta confirmed them: each was more "
         "important than the most important permuted (shadow) copy of all covariates in "
         "significantly more runs than chance (or, where the runs ran out before the "
         "test could decide, its median importance beat the median shadow maximum: "
         "Boruta's rough fix). They enter both the gating network "
         "(class membership) and the expert networks (growth factors within classes)."
         if kept else
         "Boruta confirmed no covariate, so the mixture models below have no covariates."),
        "",
        md_table(coding) if len(coding) else "",
        "",
        "## 3. Classes and the four variants",
        "",
        f"Bilinear spline with a class-specific unknown knot, K = 1..{k_max}, "
        f"{n_starts} random starts each:",
        "",
        md_table(enum.table[["K", "n_params", "logL", "AIC", "BIC", "entropy",
                             "smallest_share", "converged", "replicated"]]),
        "",
        f"BIC chooses K = {enum.best_bic}. The four variants at that K (expert "
        "covariates conditioned on, so all four log-likelihoods are of the outcomes "
        "given the covariates and comparable by BIC):",
        "",
        md_table(table),
        "",
        f"**Chosen model: {chosen}** (lowest BIC), log-likelihood {best.llf:.3f}, "
        f"{best.n_params} parameters, entropy {best.entropy:.3f}.",
        "",
        f"![trajectories]({figures['trajectories']})",
        f"![posterior]({figures['posterior']})",
        f"![enumeration]({figures['enumeration']})",
        "",
        "## 4. Estimates of the chosen model",
        "",
        md_table(est.assign(pvalue=est["pvalue"].astype(float)), 4),
        "",
        f"_Run time {elapsed:.0f} s._",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true",
                    help="a smoke run: few trees, K ≤ 2, few starts")
    ap.add_argument("--out", default="output/main", help="folder for figures and report")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    fast = args.fast or os.environ.get("TRAJMIX_FAST") == "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = SETTINGS[fast]
    n_trees, runs, b_trees, k_max, n_starts = settings
    step = Step()

    df = ecls_math()
    step(f"1/5 SEM forest over {len(COVARIATES)} covariates ({n_trees} trees) and "
         f"Boruta ({runs} runs), N = {len(df)}")
    forest, boruta = screen(df, n_trees, runs, b_trees, args.seed, progress=not fast)
    reasons = boruta_reasons(boruta)
    print(reasons.drop(columns="shadow_max").to_string(index=False))
    print(f"(shadow maximum, mean over runs: {boruta.threshold:.2f})")

    kept = boruta.selected
    data, cols, coding = encode(df, kept)
    step(f"2/5 covariates kept: {kept or 'none'}")
    if len(coding):
        print(coding.to_string(index=False))

    step(f"3/5 enumerating classes K = 1..{k_max} of the bilinear spline")
    enum = enumerate_classes(data, M, T, k_max=k_max, n_starts=n_starts, seed=args.seed,
                             progress=not fast)
    print(enum.table.round(3).to_string(index=False))
    K = enum.best_bic
    step(f"4/5 the four variants at K = {K} with covariates {cols}")
    table, fits = four_variants(data, K, cols, n_starts, args.seed, enum.fits[K])
    print(table.round(3).to_string(index=False))
    chosen = table.loc[table["BIC"].idxmin(), "model"]
    best = fits[chosen]
    print(f"\nchosen by BIC: {chosen} (logL {best.llf:.3f})")
    best.summary()

    step("5/5 figures and report")
    from forests import plots as fplots
    from sem.plots import pyplot
    from trajmix import plots

    plt = pyplot()
    figures = {}
    ax = fplots.plot_importance(forest, boruta=boruta)
    figures["importance"] = "importance.png"
    for f in (plots.trajectories, plots.posterior):
        ax2 = f(best)
        ax2.figure.tight_layout()
        ax2.figure.savefig(out / f"{f.__name__}.png", dpi=110)
        figures[f.__name__] = f"{f.__name__}.png"
    ax.figure.savefig(out / "importance.png", dpi=110, bbox_inches="tight")
    ax = plots.enumeration(enum.table)
    ax.figure.savefig(out / "enumeration.png", dpi=110, bbox_inches="tight")
    figures["enumeration"] = "enumeration.png"
    plt.close("all")
    reasons.to_csv(out / "screening.csv", index=False)
    enum.table.to_csv(out / "enumeration.csv", index=False)
    table.to_csv(out / "variants.csv", index=False)
    best.estimates.to_csv(out / "estimates.csv", index=False)
    report = write_report(out, n=len(df), settings=settings, reasons=reasons,
                          coding=coding, kept=kept, enum=enum, table=table, chosen=chosen,
                          best=best, elapsed=time.perf_counter() - step.t0,
                          figures=figures)
    step(f"done: report {report}, figures and tables in {out}/")
    return dict(kept=kept, K=K, chosen=chosen, llf=best.llf, table=table)


if __name__ == "__main__":
    main(sys.argv[1:])
