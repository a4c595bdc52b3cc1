"""Defaults of the parameter table against lavaan 0.6.14's ``parTable`` (printed by
the R calls noted in each test; see tests/data/make_lavaan_reference.R for the R set-up)."""
import pytest

from sem import SpecificationError, build_partable


def rows(pt):
    return {(r.lhs, r.op, r.rhs): (r.free > 0, r.exo) for r in pt.itertuples()
            if r.op != ":="}


def test_cfa_defaults_match_lavaan():
    pt, v = build_partable("f =~ y1 + y2 + y3; g =~ y4 + y5 + y6")
    r = rows(pt)
    assert r[("f", "=~", "y1")] == (False, 0) and r[("f", "=~", "y2")] == (True, 0)
    assert r[("f", "~~", "g")] == (True, 0)          # auto.cov.lv.x
    assert sum(f for f, _ in r.values()) == 13       # lavaan: npar 13


def test_fixed_x_and_auto_cov_y_match_lavaan():
    # lavaan: sem("y1 ~ x1; y2 ~ x1; y3 ~ y1") -> npar 7, y2 ~~ y3 free, x1 exo
    pt, v = build_partable("y1 ~ x1; y2 ~ x1; y3 ~ y1")
    r = rows(pt)
    assert r[("y2", "~~", "y3")] == (True, 0)
    assert ("y1", "~~", "y2") not in r               # y1 is a predictor
    assert r[("x1", "~~", "x1")] == (True, 1)
    assert v.ov_x == ("x1",)
    assert sum(f and not e for f, e in r.values()) == 7


def test_pure_dependents_exclude_indicators():
    # lavaan: "f =~ y1+y2+y3; y1 ~ x1; y2 ~ x2" -> no y1 ~~ y2, npar 8
    pt, _ = build_partable("f =~ y1 + y2 + y3; y1 ~ x1; y2 ~ x2")
    r = rows(pt)
    assert ("y1", "~~", "y2") not in r
    assert r[("x1", "~~", "x2")] == (True, 1)
    assert sum(f and not e for f, e in r.values()) == 8


def test_endogenous_latents_covary_when_pure_dependents():
    # lavaan: f ~ x1; g ~ x2 with two factors -> f ~~ g free, npar 15
    pt, _ = build_partable("f =~ y1 + y2 + y3; g =~ y4+y5+y6; f ~ x1; g ~ x2")
    r = rows(pt)
    assert r[("f", "~~", "g")] == (True, 0)
    assert sum(f and not e for f, e in r.values()) == 15


def test_single_indicator_residual_fixed_to_zero():
    pt, _ = build_partable("f =~ y1; g =~ y4 + y5 + y6")
    r = pt.set_index(["lhs", "op", "rhs"])
    assert r.loc[("y1", "~~", "y1"), "free"] == 0
    assert r.loc[("y1", "~~", "y1"), "ustart"] == 0.0


def test_std_lv_and_meanstructure():
    pt, _ = build_partable("f =~ y1 + y2 + y3; g =~ y4 + y5 + y6", std_lv=True,
                           meanstructure=True)
    r = pt.set_index(["lhs", "op", "rhs"])
    assert (r.loc[("f", "=~", "y1"), "free"]) > 0
    assert r.loc[("f", "~~", "f"), "ustart"] == 1.0 and r.loc[("f", "~~", "f"), "free"] == 0
    assert r.loc[("f", "~1", ""), "free"] == 0
    assert (pt["free"] > 0).sum() == 19              # lavaan: npar 19


def test_shared_labels_share_a_parameter_and_na_frees_marker():
    pt, _ = build_partable("f =~ NA*y1 + a*y2 + a*y3; f ~~ 1*f")
    r = pt.set_index(["lhs", "op", "rhs"])
    assert r.loc[("f", "=~", "y1"), "free"] > 0
    assert r.loc[("f", "=~", "y2"), "free"] == r.loc[("f", "=~", "y3"), "free"]


def test_equality_and_fixed_constraints():
    pt, _ = build_partable("f =~ y1 + a*y2 + b*y3; a == b")
    r = pt.set_index(["lhs", "op", "rhs"])
    assert r.loc[("f", "=~", "y2"), "free"] == r.loc[("f", "=~", "y3"), "free"]
    pt, _ = build_partable("f =~ y1 + a*y2 + y3; a == 0.5")
    assert pt.set_index(["lhs", "op", "rhs"]).loc[("f", "=~", "y2"), "ustart"] == 0.5


def test_definition_errors():
    with pytest.raises(SpecificationError, match="not a label"):
        build_partable("f =~ y1 + a*y2 + y3; d := a*zz")
    with pytest.raises(SpecificationError, match="specified twice"):
        build_partable("f =~ y1 + y2 + y3\nf =~ y2")
    with pytest.raises(SpecificationError, match="regressed on itself"):
        build_partable("y ~ y")
    with pytest.raises(SpecificationError, match="only the functions"):
        build_partable("f =~ y1 + a*y2 + y3; d := __import__(a)")
