"""lavaan's ``lavTestScore``: score tests of equality constraints (group_equal across
groups, shared labels within one), all released and one at a time, against lavaan
0.6.14 (``lavaan_score_tests.csv``, tests/data/make_lavaan_reference.R)."""
import numpy as np
import pytest

from sem import Model
from tests.conftest import HS_MODEL, PD_MODEL, reference

REF = reference("lavaan_score_tests.csv")


def _name(cell: str, groups) -> str:
    """lavaan's "lhs op rhs|group" as ours: "lhs op rhs" and " [group label]"."""
    row, g = cell.rsplit("|", 1)
    row = " ".join(row.split())
    return row if groups is None else f"{row} [{groups[int(g) - 1]}]"


@pytest.mark.parametrize("case", ["metric", "scalar", "pd", "fiml_metric"])
def test_score_tests_match_lavaan(case, hs, hs_missing, pol_dem):
    if case == "pd":
        fit, groups = Model(PD_MODEL).fit(pol_dem), None
    else:
        equal = ["loadings"] + (["intercepts"] if case == "scalar" else [])
        fiml = case.startswith("fiml")
        fit = Model(HS_MODEL).fit(hs_missing if fiml else hs, group="school",
                                  group_equal=equal, missing="ml" if fiml else "error")
        groups = fit.groups
    out = fit.score_test()
    ref = REF[REF["case"] == case]
    total = ref[ref["kind"] == "total"].iloc[0]
    assert out["test"]["df"] == total["df"]
    assert out["test"]["X2"] == pytest.approx(total["X2"], rel=1e-5)
    assert out["test"]["pvalue"] == pytest.approx(total["pvalue"], rel=1e-4, abs=1e-8)
    uni = ref[ref["kind"] == "uni"]
    assert list(out["uni"]["lhs"]) == [_name(c, groups) for c in uni["lhs"]]
    assert list(out["uni"]["rhs"]) == [_name(c, groups) for c in uni["rhs"]]
    np.testing.assert_allclose(out["uni"]["X2"], uni["X2"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out["uni"]["pvalue"], uni["pvalue"], rtol=1e-4, atol=1e-6)


def test_score_test_needs_constraints(hs):
    with pytest.raises(ValueError, match="no equality constraints"):
        Model(HS_MODEL).fit(hs).score_test()
    with pytest.raises(ValueError, match="no equality constraints"):
        Model(HS_MODEL).fit(hs, group="school").score_test()      # configural


def test_relaxed_table_splits_every_shared_parameter():
    """Each free row its own parameter; a parameter shared by k rows gives k − 1
    constraints against its first row, in the table's order (lavaan's == rows)."""
    import pandas as pd

    from sem.score_test import relaxed_table

    pt = pd.DataFrame({"lhs": list("abcde"), "op": "~~", "rhs": list("abcde"),
                       "free": [1, 2, 1, 0, 1]})
    relaxed, of, pairs = relaxed_table(pt)
    assert list(relaxed["free"]) == [1, 2, 3, 0, 4]
    assert list(of) == [0, 1, 0, 0] and pairs == [(0, 2), (0, 3)]
