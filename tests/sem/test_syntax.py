import pytest

from sem import SpecificationError
from sem.syntax import parse


def test_operators_modifiers_and_continuation():
    st = parse("""
        # a comment
        f =~ x1 + a*x2 + 0.5*x3 + NA*x4   ! another comment
        f ~ start(0.3)*z +
            label("b")*w
        y ~ 1 + x1 ; y ~~ 2?y
        g =~ data.t1*y1 + data.t2*y2
        ab := a*b
        a == b
    """)
    ops = [s.op for s in st]
    assert ops == ["=~", "~", "~", "~~", "=~", ":=", "=="]
    f = st[0].terms
    assert [t.var for t in f] == ["x1", "x2", "x3", "x4"]
    assert f[1].label == "a" and f[2].fixed == 0.5 and f[3].free_forced
    assert st[1].terms[0].start == 0.3 and st[1].terms[1].label == "b"
    assert st[1].line == 4
    assert st[2].terms[0].var == "1"
    assert st[3].terms[0].start == 2.0
    assert st[4].terms[0].data == "t1"
    assert st[5].expression == "a*b"


def test_multiple_lhs():
    st = parse("y1 + y2 ~ x")
    assert st[0].lhs == ["y1", "y2"]


@pytest.mark.parametrize("text, where", [
    ("f =~ x1 + + x2", "line 1, position"),
    ("f =~ x1\ng =~ 2x", "line 2"),
    ("f x1 x2", "no operator"),
    ("f =~ ", "nothing on the right"),
    ("=~ x1", "nothing on the left"),
    ("f =~ x1 + start(a)*x2", r"start\(\) needs a number"),
    ("y ~ c(a, 1)*x", r"'c\(a, 1\)' mixes labels with numbers"),
    ("y ~ c(a, )*x", "has an empty element"),
    ("y ~ c(a, b-c)*x", "'b-c' in 'c\\(a, b-c\\)' is not a label"),
    ("a > 0", "inequality"),
    ("f <~ x", "formative"),
    ("f =~ x1 + x2\nf ~*~ f", r"line 2, position 3: scaling factors \('~\*~'\) belong to ordered"),
    ("x1 | t1", r"line 1, position 4: thresholds \('\|'\) belong to ordered"),
    ("group: 1\nf =~ x1 + x2", r"line 1, position 1: 'group:' blocks .* c\(\.\.\.\) modifiers"),
    ("level: 1\nf =~ x1 + x2", "'level:' blocks are not supported; multilevel"),
    ("f ~~ 1", "only allowed with"),
])
def test_syntax_errors_name_line_and_position(text, where):
    with pytest.raises(SpecificationError, match=where):
        parse(text)


def test_empty_model():
    with pytest.raises(SpecificationError, match="empty"):
        parse("  # nothing\n")


def test_defined_expression_is_stored_without_blanks_as_lavaan():
    """lavaan's parTable holds ``total := c + a*b`` as rhs "c+a*b"; tables merged with
    lavaan's on (lhs, op, rhs) need the same text."""
    from sem.partable import build_partable
    pt, _ = build_partable("y ~ c*x + a*m\nm ~ b*x\ntotal := c + a * b")
    assert pt.loc[pt["op"] == ":=", "rhs"].tolist() == ["c+a*b"]


def test_per_group_modifiers():
    """c(...) gives one modifier per group (lavaan): labels, or values with NA free; a
    single element is the plain modifier."""
    t = parse("f =~ x1 + c(a1, a2)*x2 + c(1, NA)*x3 + c(NA, NA)*x4 + c(b)*x5 + c(2)*x6")[0]
    assert t.terms[1].group_labels == ("a1", "a2") and t.terms[1].group_text == "c(a1, a2)"
    assert t.terms[2].group_values == (1.0, None) and t.terms[2].n_group_values == 2
    g0, g1 = t.terms[2].in_group(0), t.terms[2].in_group(1)
    assert (g0.fixed, g0.free_forced, g1.fixed, g1.free_forced) == (1.0, False, None, True)
    assert t.terms[1].in_group(1).label == "a2"
    assert t.terms[3].in_group(0).free_forced and t.terms[3].group_values == (None, None)
    assert t.terms[4].label == "b" and t.terms[4].group_labels is None
    assert t.terms[5].fixed == 2.0 and t.terms[5].n_group_values is None
    both = parse('y ~ c(a, "b")*c(0.5, NA)*x')[0].terms[0]
    assert both.group_labels == ("a", "b") and both.group_values == (0.5, None)
    assert both.group_text == "c(a, \"b\")*c(0.5, NA)"


def test_per_group_modifier_in_one_group_is_refused():
    from sem.partable import build_partable
    with pytest.raises(SpecificationError, match=r"modifier 'c\(1, NA\)' of 'y ~ x' "
                       r"\(line 1\) gives 2 values, one per group, but the model is "
                       "fitted to one group"):
        build_partable("y ~ c(1, NA)*x")
    pt, _ = build_partable("y ~ c(a)*x + c(0.5)*z")      # one element: the modifier
    assert pt["label"].tolist()[0] == "a" and pt["ustart"].tolist()[1] == 0.5
