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
    ("y ~ c(1,2)*x", "multiple-group"),
    ("a > 0", "inequality"),
    ("f <~ x", "formative"),
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
