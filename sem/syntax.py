"""lavaan model syntax → flat list of user-specified parameter rows.

Supported (lavaan 0.6 syntax):

=========  ==========================================  =======================
operator   meaning                                     example
=========  ==========================================  =======================
``=~``     is measured by (factor loadings)            ``visual =~ x1 + x2``
``~``      is regressed on                             ``dem65 ~ ind60 + dem60``
``~~``     (residual) (co)variance                     ``y1 ~~ y5``
``~ 1``    intercept / mean                            ``y1 ~ 1``
``:=``     defined parameter (delta-method SE)         ``ab := a*b``
``==``     equality of two labels, or label to number  ``a == b``
=========  ==========================================  =======================

Modifiers, written ``modifier*variable``: a label (``a*x``), a fixed value (``1*x``,
``0*x``), ``NA*x`` (free a parameter lavaan would fix, such as a marker loading),
``start(0.5)*x`` or ``0.5?x`` (a start value), ``label("a")*x``, and the OpenMx-style
**definition variable** ``data.t1*y1``: the entry equals each case's own value of the
data column ``t1`` (individually varying measurement times in growth models).
Several modifiers may be chained: ``start(1)*a*x``.

Multiple groups (``Model.fit(data, group=...)``) take one modifier per group, as
lavaan: ``c(a1, a2)*x`` (a label per group; ``c(a, a)`` makes the parameter equal across
the groups), ``c(1, NA)*x`` (fixed in the first group, free in the second),
``c(0.5, 0.5)*x``. One ``c()`` holds labels or numbers and NA, not both (chain two:
``c(a, b)*c(NA, NA)*x``). A ``c()`` of one element is that modifier itself; the number of
elements must equal the number of groups (``sem.partable`` checks it).

Comments start with ``#`` or ``!``; statements end at a newline or ``;`` and continue on
the next line when a line ends with an operator or ``+`` or the next line starts with
``+`` or ``*``. Errors name the line and position.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from .errors import SpecificationError

_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"
_NAME_RE = re.compile(rf"^{_NAME}$")
#: lavaan's block lines ("group: 1", "level: within")
_BLOCK_RE = re.compile(r"^\s*(group|level|block|class)\s*:(?!=)")
_NUM_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
# Longest first, so that "=~" is not read as "=" and "~~" not as "~".
_OPERATORS = (":=", "=~", "~*~", "~~", "==", "<~", "~", "<", ">", "|")


@dataclass
class Term:
    """One right-hand-side term with its modifiers."""

    var: str                       # variable name, or "1" for an intercept
    label: str | None = None
    fixed: float | None = None     # fixed value; None when free
    free_forced: bool = False      # NA* given: free a parameter lavaan would fix
    start: float | None = None
    data: str | None = None        # definition variable: data column name
    position: int = 0              # column of the term in its line (1-based)
    # c(...) with one element per group: labels ("" none), values (None = NA, free)
    group_labels: tuple[str, ...] | None = None
    group_values: tuple[float | None, ...] | None = None
    group_text: str = ""           # the c(...) modifier(s) as written, for messages

    @property
    def n_group_values(self) -> int | None:
        """The number of elements of its per-group modifiers (None without one)."""
        n = {len(v) for v in (self.group_labels, self.group_values) if v is not None}
        return max(n) if n else None

    def in_group(self, g: int) -> "Term":
        """The term with group ``g``'s (0-based) element of its per-group modifiers."""
        t = replace(self, group_labels=None, group_values=None, group_text="")
        if self.group_labels is not None:
            t.label = self.group_labels[g] or None
        if self.group_values is not None:
            v = self.group_values[g]
            t.fixed, t.free_forced = (v, False) if v is not None else (None, True)
        return t


@dataclass
class Statement:
    lhs: list[str]
    op: str
    terms: list[Term] = field(default_factory=list)
    expression: str | None = None  # for := and ==
    line: int = 0


def _strip_comment(line: str) -> str:
    out, quote = [], None
    for ch in line:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "#!":
            break
        out.append(ch)
    return "".join(out)


def _logical_lines(text: str) -> list[tuple[str, int, int]]:
    """Split into statements; return (text, line number, column offset) per statement."""
    pieces: list[tuple[str, int, int]] = []
    for ln, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        col = 0
        for part in line.split(";"):
            if part.strip():
                lead = len(part) - len(part.lstrip())
                pieces.append((part.strip(), ln, col + lead))
            col += len(part) + 1
    merged: list[tuple[str, int, int]] = []
    for text_, ln, col in pieces:
        if merged:
            prev, pln, pcol = merged[-1]
            ends_open = prev.endswith(("+", "*", "~", "=", ",", "(")) or prev.endswith(":=")
            starts_cont = text_.startswith(("+", "*"))
            if ends_open or starts_cont:
                merged[-1] = (prev + " " + text_, pln, pcol)
                continue
        merged.append((text_, ln, col))
    return merged


def _split_top(s: str, sep: str) -> list[tuple[str, int]]:
    """Split on ``sep`` outside parentheses and quotes; keep each piece's offset."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(s):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append((s[start:i], start))
            start = i + 1
    parts.append((s[start:], start))
    return parts


def _find_operator(s: str) -> tuple[str, int] | None:
    depth, quote = 0, None
    i = 0
    while i < len(s):
        ch = s[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            for op in _OPERATORS:
                if s.startswith(op, i):
                    return op, i
        i += 1
    return None


def _err(msg: str, line: int, pos: int) -> SpecificationError:
    return SpecificationError(f"model syntax, line {line}, position {pos}: {msg}")


def _parse_number(tok: str) -> float | None:
    tok = tok.strip()
    if _NUM_RE.match(tok):
        return float(tok)
    return None


def _parse_modifier(mod: str, term: Term, line: int, pos: int) -> None:
    mod = mod.strip()
    if not mod:
        raise _err("empty modifier before '*'", line, pos)
    num = _parse_number(mod)
    if num is not None:
        term.fixed = num
        return
    if mod in ("NA", "na"):
        term.free_forced = True
        return
    m = re.fullmatch(r"(start|label|equal|c)\((.*)\)", mod)
    if m:
        kind, arg = m.group(1), m.group(2).strip()
        if kind == "c":
            _parse_group_modifier(arg, term, line, pos)
            return
        if kind == "start":
            v = _parse_number(arg)
            if v is None:
                raise _err(f"start() needs a number, got '{arg}'", line, pos)
            term.start = v
            return
        name = arg.strip("\"'")
        if not _NAME_RE.match(name):
            raise _err(f"'{arg}' is not a valid label", line, pos)
        term.label = name
        return
    if mod.startswith("data."):
        col = mod[5:]
        if not col:
            raise _err("'data.' needs a column name, as in data.t1*y1", line, pos)
        term.data = col
        return
    if _NAME_RE.match(mod):
        term.label = mod
        return
    raise _err(f"cannot read modifier '{mod}'", line, pos)


def _parse_group_modifier(arg: str, term: Term, line: int, pos: int) -> None:
    """``c(a, b)`` (labels) or ``c(1, NA)`` (values, NA free): one element per group. A
    single element is the plain modifier."""
    text = f"c({arg})"
    items = [x.strip() for x, _ in _split_top(arg, ",")]
    if any(not x for x in items):
        raise _err(f"'{text}' has an empty element", line, pos)
    if len(items) == 1:
        _parse_modifier(items[0], term, line, pos)
        return
    values, labels = [], []
    for x in items:
        num = _parse_number(x)
        if num is not None or x in ("NA", "na"):
            values.append(num)
            continue
        name = x.strip("\"'")
        if not _NAME_RE.match(name):
            raise _err(f"'{x}' in '{text}' is not a label, a number or NA", line, pos)
        labels.append(name)
    if values and labels:
        raise _err(f"'{text}' mixes labels with numbers or NA: give labels, c(a, b), or "
                   "values, c(1, NA), and chain the two if both are needed "
                   "(c(a, b)*c(1, NA)*x)", line, pos)
    if any(v is not None and not math.isfinite(v) for v in values):
        raise _err(f"'{text}': fixed values must be finite", line, pos)
    if labels:
        term.group_labels = tuple(labels)
    else:
        term.group_values = tuple(values)
    term.group_text = f"{term.group_text}*{text}" if term.group_text else text


def _parse_term(raw: str, offset: int, line: int, col0: int) -> Term:
    pos = col0 + offset + (len(raw) - len(raw.lstrip())) + 1
    txt = raw.strip()
    if not txt:
        raise _err("empty term (two '+' in a row, or a '+' at the end)", line, pos)
    # "0.5?x" start-value shorthand
    if "?" in txt and "*" not in txt.split("?")[0]:
        sv, _, rest = txt.partition("?")
        v = _parse_number(sv)
        if v is None:
            raise _err(f"'{sv}?' needs a number before '?'", line, pos)
        t = _parse_term(rest, offset + len(sv) + 1, line, col0)
        t.start = v
        return t
    pieces = [p for p, _ in _split_top(txt, "*")]
    var = pieces[-1].strip()
    term = Term(var=var, position=pos)
    if var != "1" and not _NAME_RE.match(var):
        raise _err(f"'{var}' is not a valid variable name", line, pos)
    for mod in pieces[:-1]:
        _parse_modifier(mod, term, line, pos)
    return term


def parse(text: str) -> list[Statement]:
    """Parse lavaan model syntax into statements (no defaults applied yet)."""
    if not isinstance(text, str) or not text.strip():
        raise SpecificationError("the model syntax is empty")
    out: list[Statement] = []
    for stmt, ln, col in _logical_lines(text):
        block = _BLOCK_RE.match(stmt)
        if block:
            kind = block.group(1)
            raise _err(f"'{kind}:' blocks are not supported; " + (
                "multilevel models are not supported" if kind == "level" else
                "give group-specific values with c(...) modifiers"), ln, col + 1)
        found = _find_operator(stmt)
        if found is None:
            raise _err(
                f"no operator found in '{stmt}' (expected one of =~, ~, ~~, :=, ==)",
                ln, col + 1)
        op, at = found
        lhs_txt, rhs_txt = stmt[:at].strip(), stmt[at + len(op):].strip()
        if not lhs_txt:
            raise _err(f"nothing on the left of '{op}'", ln, col + at + 1)
        if not rhs_txt:
            raise _err(f"nothing on the right of '{op}'", ln, col + at + len(op) + 1)
        if op in ("<", ">"):
            raise _err(
                "inequality constraints are not supported; use Model(..., "
                "positive_variances=True) to keep variances positive", ln, col + at + 1)
        if op == "<~":
            raise _err("formative indicators ('<~') are not supported", ln, col + at + 1)
        if op in ("~*~", "|"):
            what = "scaling factors ('~*~')" if op == "~*~" else "thresholds ('|')"
            raise _err(f"{what} belong to ordered categorical indicators, which are not "
                       "supported (the estimators here are for continuous data)",
                       ln, col + at + 1)
        if op in (":=", "=="):
            if op == ":=" and not _NAME_RE.match(lhs_txt):
                raise _err(f"'{lhs_txt}' is not a valid name for a defined parameter",
                           ln, col + 1)
            # the expression without blanks, as lavaan's parameter table holds it
            out.append(Statement([lhs_txt], op, expression="".join(rhs_txt.split()),
                                 line=ln))
            continue
        lhs = []
        for name, off in _split_top(lhs_txt, "+"):
            name = name.strip()
            if not _NAME_RE.match(name):
                raise _err(f"'{name}' is not a valid variable name", ln, col + off + 1)
            lhs.append(name)
        terms = [_parse_term(t, at + len(op) + off, ln, col)
                 for t, off in _split_top(rhs_txt, "+")]
        for t in terms:
            if t.var == "1" and op != "~":
                raise _err(f"'1' (an intercept) is only allowed with '~', not '{op}'",
                           ln, t.position)
            if t.data is not None and op not in ("=~", "~"):
                raise _err("definition variables (data.x) can only be loadings or "
                           "regression coefficients", ln, t.position)
            if t.fixed is not None and not math.isfinite(t.fixed):
                raise _err("fixed values must be finite", ln, t.position)
        out.append(Statement(lhs, op, terms, line=ln))
    if not out:
        raise SpecificationError("the model syntax is empty (only comments)")
    return out
