"""A text summary laid out like lavaan's ``summary(fit, fit.measures = TRUE)``."""
from __future__ import annotations

import numpy as np

_SECTIONS = [("=~", "Latent Variables"), ("~", "Regressions"), ("~~cov", "Covariances"),
             ("~1", "Intercepts"), ("~~var", "Variances"), (":=", "Defined Parameters")]


def _num(x, w=9, d=3):
    return " " * w if x is None or not np.isfinite(x) else f"{x:{w}.{d}f}"


def _line(k, v, width=64):
    return f"  {k:<{width - len(str(v)) - 2}}{v}"


def render(res, standardized: bool = False, rsquare: bool = False) -> str:
    fm = res.fit_measures
    out = []
    status = "ended normally" if res.converged else "did NOT converge"
    out.append(f"trajmix/sem {status} after {res.opt.n_iter} iterations")
    out.append("")
    out.append(_line("Estimator", "ML"))
    out.append(_line("Optimization method", "BFGS"))
    out.append(_line("Number of model parameters", res.n_params))
    out.append("")
    out.append(_line("Number of observations", f"{res.nobs:g}"))
    if res.missing == "ml":
        out.append(_line("Missing-data handling", "FIML"))
    if "chisq" in fm:
        out += ["", "Model Test User Model:", "",
                _line("Test statistic", f"{fm['chisq']:.3f}"),
                _line("Degrees of freedom", int(fm["df"])),
                _line("P-value (Chi-square)", f"{fm['pvalue']:.3f}")]
        if "chisq.scaled" in fm:          # robust (MLR) fits: lavaan's scaled column
            out += [_line("Scaled test statistic (Yuan-Bentler)",
                          f"{fm['chisq.scaled']:.3f}"),
                    _line("Scaling correction factor", f"{fm['chisq.scaling.factor']:.3f}"),
                    _line("P-value (scaled)", f"{fm['pvalue.scaled']:.3f}"),
                    _line("CFI / TLI (scaled)",
                          f"{fm['cfi.scaled']:.3f} / {fm['tli.scaled']:.3f}"),
                    _line("RMSEA (scaled)", f"{fm['rmsea.scaled']:.3f}")]
        out += ["", "Model Test Baseline Model:", "",
                _line("Test statistic", f"{fm['baseline.chisq']:.3f}"),
                _line("Degrees of freedom", int(fm["baseline.df"])),
                "", "User Model versus Baseline Model:", "",
                _line("Comparative Fit Index (CFI)", f"{fm['cfi']:.3f}"),
                _line("Tucker-Lewis Index (TLI)", f"{fm['tli']:.3f}")]
    out += ["", "Loglikelihood and Information Criteria:", "",
            _line("Loglikelihood user model (H0)", f"{fm['logl']:.3f}")]
    if "unrestricted.logl" in fm:
        out.append(_line("Loglikelihood unrestricted model (H1)",
                         f"{fm['unrestricted.logl']:.3f}"))
    out += ["", _line("Akaike (AIC)", f"{fm['aic']:.3f}"),
            _line("Bayesian (BIC)", f"{fm['bic']:.3f}")]
    if "bic2" in fm:
        out.append(_line("Sample-size adjusted Bayesian (SABIC)", f"{fm['bic2']:.3f}"))
    if "rmsea" in fm:
        out += ["", "Root Mean Square Error of Approximation:", "",
                _line("RMSEA", f"{fm['rmsea']:.3f}"),
                _line("90 Percent confidence interval - lower", f"{fm['rmsea.ci.lower']:.3f}"),
                _line("90 Percent confidence interval - upper", f"{fm['rmsea.ci.upper']:.3f}"),
                _line("P-value H_0: RMSEA <= 0.050", f"{fm['rmsea.pvalue']:.3f}"),
                "", "Standardized Root Mean Square Residual:", "",
                _line("SRMR", f"{fm['srmr']:.3f}")]
    out += ["", "Parameter Estimates:", "",
            _line("Standard errors", {"standard": "Standard", "robust": "Robust.huber.white",
                                      "none": "None"}[res.se_type]),
            _line("Information", res.information.capitalize())]
    if not res.admissible:
        out.append("  WARNING: the solution is not admissible (negative variances: "
                   f"{', '.join(res.heywood) or 'latent covariance not PD'})")
    tab = res.estimates
    endo = set(tab.loc[tab["op"].isin(["~"]), "lhs"]) | set(tab.loc[tab["op"] == "=~", "rhs"])
    head = f"{'':20}{'Estimate':>9}{'Std.Err':>9}{'z-value':>9}{'P(>|z|)':>9}"
    if standardized:
        head += f"{'Std.lv':>9}{'Std.all':>9}"
    for key, title in _SECTIONS:
        if key == "~~cov":
            sel = tab[(tab["op"] == "~~") & (tab["lhs"] != tab["rhs"])]
        elif key == "~~var":
            sel = tab[(tab["op"] == "~~") & (tab["lhs"] == tab["rhs"])]
        else:
            sel = tab[tab["op"] == key]
        if sel.empty:
            continue
        out += ["", f"{title}:", head]
        last = None
        slv, sall = sel["std.lv"].to_numpy(), sel["std.all"].to_numpy()
        for i, r in enumerate(sel.itertuples()):
            if key in ("=~", "~", "~~cov") and r.lhs != last:
                out.append(f"  {r.lhs} {r.op}")
                last = r.lhs
            if key in ("=~", "~", "~~cov"):
                name = r.rhs
            elif key == ":=":
                name = r.lhs
            else:
                name = ("." if r.lhs in endo else "") + r.lhs
            if r.label and key != ":=":
                name = f"{name} ({r.label})"
            indent = "    " if key in ("=~", "~", "~~cov") else "   "
            line = f"{indent}{name:<{20 - len(indent)}}{_num(r.est)}"
            if r.se > 0:
                line += f"{_num(r.se)}{_num(r.z)}{_num(r.pvalue)}"
            elif standardized:
                line += " " * 27
            if standardized:
                line += f"{_num(slv[i])}{_num(sall[i])}"
            out.append(line)
    if rsquare and not res.spec.problem.has_defvars:
        r2 = res.rsquare
        if len(r2):
            out += ["", "R-Square:", f"{'':20}{'Estimate':>9}"]
            out += [f"   {v:<17}{_num(x)}" for v, x in r2.items()]
    return "\n".join(out)
