"""A small CSS reader for SVG: style sheets, the style attribute, selectors, cascade.

Selectors: type, ``*``, ``.class``, ``#id``, ``[attr]``, ``[attr=value]``, ``[attr~=v]``,
``[attr^=v]``, ``[attr$=v]``, ``[attr*=v]``, ``:first-child``, compounds of these, and the
descendant (space), child (``>``), adjacent (``+``) and sibling (``~``) combinators.
Rules with any other selector are skipped (with a warning). Specificity and ``!important``
follow CSS 2.1. ``parse_url`` reads the ``url(#id)`` references of property values.

Everything here is linear in its input: comments are cut by hand, a selector is matched
right to left with its results memoised per (compound, element), so that descendant and
sibling combinators cost one step per element (not one per path through the tree), and the
cascade only tries the rules whose rightmost compound can match (indexed by id, class and
tag, as browsers do).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..errors import MAX_CSS_SELECTOR_PARTS

_AT_NAME = re.compile(r"@[\w\-]*")
_COMBINATOR = re.compile(r"\s*([>+~])\s*|\s+")
_COMPOUND = re.compile(
    r"(\*|[A-Za-z_][\w\-]*)?((?:\.[\w\-]+|#[\w\-]+|\[\s*[\w\-:]+\s*(?:[~^$*|]?=\s*(?:\"[^\"]*\"|'[^']*'|[^\]\s]+)\s*)?\]|:[\w\-]+)*)")
_PART = re.compile(r"\.([\w\-]+)|#([\w\-]+)|\[\s*([\w\-:]+)\s*(?:([~^$*|]?=)\s*(\"[^\"]*\"|'[^']*'|[^\]\s]+)\s*)?\]|:([\w\-]+)")


@dataclass
class Compound:
    tag: Optional[str]
    ids: Tuple[str, ...]
    classes: Tuple[str, ...]
    attrs: Tuple[Tuple[str, Optional[str], Optional[str]], ...]
    pseudo: Tuple[str, ...]

    def matches(self, node) -> bool:
        if self.tag is not None and self.tag != node.tag:
            return False
        if any(node.attrs.get("id") != i for i in self.ids):
            return False
        if self.classes:
            have = node.attrs.get("class", "").split()
            if any(c not in have for c in self.classes):
                return False
        for name, op, value in self.attrs:
            if name not in node.attrs:
                return False
            if op is None:
                continue
            got = node.attrs[name]
            ok = {"=": got == value, "~=": value in got.split(), "^=": got.startswith(value),
                  "$=": got.endswith(value), "*=": value in got,
                  "|=": got == value or got.startswith(value + "-")}[op]
            if not ok:
                return False
        for p in self.pseudo:
            if p == "first-child":
                if node.parent is None or node.index != 0:
                    return False
            else:
                return False
        return True


@dataclass
class Selector:
    """A complex selector. ``memo`` caches (part index, kind, id(node)) -> bool for one
    document (the nodes outlive it), which keeps matching linear (module docstring)."""

    parts: List[Compound]        # left to right
    combinators: List[str]       # between parts: ' ', '>', '+', '~'
    specificity: Tuple[int, int, int]
    memo: Dict[tuple, bool] = field(default_factory=dict, repr=False, compare=False)

    def matches(self, node) -> bool:
        return self._at(len(self.parts) - 1, node)

    def _at(self, i: int, node) -> bool:
        """Parts 0..i match with part i on ``node``."""
        key = (i, 0, id(node))
        got = self.memo.get(key)
        if got is None:
            got = self.parts[i].matches(node) and (i == 0 or self._left(i, node))
            self.memo[key] = got
        return got

    def _left(self, i: int, node) -> bool:
        """Parts 0..i-1 match somewhere the combinator before part i allows."""
        comb = self.combinators[i - 1]
        if comb == ">":
            return node.parent is not None and self._at(i - 1, node.parent)
        if comb == "+":
            s = prev_sibling(node)
            return s is not None and self._at(i - 1, s)
        return self._some(i - 1, node, up=comb == " ")

    def _some(self, i: int, node, up: bool) -> bool:
        """Parts 0..i match on some ancestor (``up``) or earlier sibling of ``node``:
        memoised, and computed iteratively along the chain (no deep recursion)."""
        step = (lambda n: n.parent) if up else prev_sibling
        kind = 1 if up else 2
        chain, n = [], node
        while True:
            got = self.memo.get((i, kind, id(n)))
            if got is not None:
                break
            nxt = step(n)
            if nxt is None:
                got = False
                break
            chain.append(n)
            n = nxt
        # walk back down: the answer for n is "nxt matches, or the answer for nxt"
        for n in reversed(chain):
            got = got or self._at(i, step(n))
            self.memo[(i, kind, id(n))] = got
        return got


def prev_sibling(node):
    """The element before ``node`` among its parent's children, or None."""
    if node.parent is None or node.index == 0:
        return None
    return node.parent.children[node.index - 1]


def parse_selector(text: str) -> Selector:
    """One complex selector; ValueError if it uses syntax outside the supported set."""
    text = text.strip()
    parts, combs, pos = [], [], 0
    spec = [0, 0, 0]
    while True:
        m = _COMPOUND.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unsupported selector {text!r}")
        tag = m.group(1)
        ids, classes, attrs, pseudo = [], [], [], []
        for p in _PART.finditer(m.group(2) or ""):
            if p.group(1):
                classes.append(p.group(1))
            elif p.group(2):
                ids.append(p.group(2))
            elif p.group(3):
                val = p.group(5)
                if val and val[0] in "\"'":
                    val = val[1:-1]
                attrs.append((p.group(3), p.group(4), val))
            else:
                pseudo.append(p.group(6))
        spec[0] += len(ids)
        spec[1] += len(classes) + len(attrs) + len(pseudo)
        spec[2] += 1 if tag not in (None, "*") else 0
        parts.append(Compound(None if tag in (None, "*") else tag, tuple(ids), tuple(classes),
                              tuple(attrs), tuple(pseudo)))
        pos = m.end()
        if pos >= len(text):
            break
        c = _COMBINATOR.match(text, pos)
        if not c:
            raise ValueError(f"unsupported selector {text!r}")
        combs.append(c.group(1) or " ")
        pos = c.end()
        if len(combs) >= MAX_CSS_SELECTOR_PARTS:
            raise ValueError(f"selector has more than {MAX_CSS_SELECTOR_PARTS} parts")
    return Selector(parts, combs, tuple(spec))


def parse_declarations(text: str) -> List[Tuple[str, str, bool]]:
    """'a: b; c: d !important' -> [(name, value, important)], names lower-cased."""
    out = []
    for decl in _split_outside_parens(strip_comments(text), ";"):
        name, sep, value = decl.partition(":")
        if not sep:
            continue
        name, value = name.strip().lower(), value.strip()
        important = False
        if value[-9:].lower() == "important" and value[:-9].rstrip().endswith("!"):
            important, value = True, value[:-9].rstrip()[:-1].strip()
        if name and value:
            out.append((name, value, important))
    return out


def strip_comments(text: str) -> str:
    """``text`` without its /* ... */ comments (an unterminated one runs to the end)."""
    out, pos = [], 0
    while True:
        start = text.find("/*", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start])
        end = text.find("*/", start + 2)
        if end < 0:
            return "".join(out)
        pos = end + 2


def _split_outside_parens(text: str, sep: str) -> List[str]:
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


@dataclass
class Rule:
    selector: Selector
    declarations: List[Tuple[str, str, bool]]
    order: int


def parse_stylesheet(text: str, warn, start_order: int = 0) -> List[Rule]:
    """Rules of a style sheet. At-rules (@import, @media, ...) are skipped with a warning."""
    text = strip_comments(text)
    rules, pos, order = [], 0, start_order
    n = len(text)
    while pos < n:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            break
        if text[pos] == "@":
            # an at-rule ends at ';' or after its {...} block
            semi, brace = text.find(";", pos), text.find("{", pos)
            name = _AT_NAME.match(text, pos).group(0)
            warn(f"<style>: CSS at-rule {name} is not supported (ignored)", key="css-" + name)
            if brace >= 0 and (semi < 0 or brace < semi):
                pos = _skip_block(text, brace)
            else:
                pos = n if semi < 0 else semi + 1
            continue
        brace = text.find("{", pos)
        if brace < 0:
            break
        end = text.find("}", brace)
        if end < 0:
            end = n
        selectors, body = text[pos:brace], text[brace + 1:end]
        decls = parse_declarations(body)
        for sel_text in selectors.split(","):
            try:
                sel = parse_selector(sel_text)
            except ValueError as e:
                warn(f"<style>: {e} (rule ignored)", key="css-sel-" + sel_text.strip())
                continue
            rules.append(Rule(sel, decls, order))
            order += 1
        pos = end + 1
    return rules


def _skip_block(text: str, brace: int) -> int:
    depth, i = 0, brace
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


class RuleIndex:
    """The rules of a document indexed by the rightmost compound of their selector (its
    first id, else its first class, else its tag, else universal), so that an element
    only tries the rules that can match it. ``tried`` counts selector matches, limited by
    ``budget`` (ValueError past it)."""

    def __init__(self, rules: List[Rule], budget: int):
        self.rules = rules
        self.budget = budget
        self.tried = 0
        self.by_id: Dict[str, List[Rule]] = {}
        self.by_class: Dict[str, List[Rule]] = {}
        self.by_tag: Dict[str, List[Rule]] = {}
        self.universal: List[Rule] = []
        for rule in rules:
            last = rule.selector.parts[-1]
            if last.ids:
                self.by_id.setdefault(last.ids[0], []).append(rule)
            elif last.classes:
                self.by_class.setdefault(last.classes[0], []).append(rule)
            elif last.tag is not None:
                self.by_tag.setdefault(last.tag, []).append(rule)
            else:
                self.universal.append(rule)

    def matching(self, node) -> List[Rule]:
        """The rules whose selector matches ``node``, in document order."""
        cands = list(self.universal) + self.by_tag.get(node.tag, [])
        ident = node.attrs.get("id")
        if ident is not None:
            cands += self.by_id.get(ident, [])
        for c in dict.fromkeys(node.attrs.get("class", "").split()):
            cands += self.by_class.get(c, [])
        self.tried += len(cands)
        if self.tried > self.budget:
            raise ValueError(f"<style>: matching the style sheet takes more than {self.budget} selector tests "
                             "(too many rules for this many elements)")
        return sorted((r for r in cands if r.selector.matches(node)), key=lambda r: r.order)


def cascade(node, rules: RuleIndex, presentation: Dict[str, str]) -> Dict[str, str]:
    """Specified values of one element: presentation attributes < sheet rules (by
    specificity, then order) < the style attribute; !important declarations above all."""
    normal, important = [], []
    for rule in rules.matching(node):
        for name, value, imp in rule.declarations:
            key = (rule.selector.specificity, rule.order)
            (important if imp else normal).append((key, name, value))
    style = parse_declarations(node.attrs.get("style", ""))
    out = dict(presentation)
    for _, name, value in sorted(normal, key=lambda t: t[0]):
        _declare(out, name, value)
    for name, value, imp in style:
        if not imp:
            _declare(out, name, value)
    for _, name, value in sorted(important, key=lambda t: t[0]):
        _declare(out, name, value)
    for name, value, imp in style:
        if imp:
            _declare(out, name, value)
    return out


# CSS shorthands -> their longhands. `marker` is one only in CSS: as an XML attribute it is
# not a presentation attribute (resvg's the-marker-property case), so it never gets here.
SHORTHANDS = {"marker": ("marker-start", "marker-mid", "marker-end")}


def _declare(out: Dict[str, str], name: str, value: str) -> None:
    """Record one winning declaration, a shorthand as its longhands (same precedence)."""
    for longhand in SHORTHANDS.get(name, (name,)):
        out[longhand] = value


_URL = re.compile(r"^url\(\s*(['\"]?)#([^)'\"]*)\1\s*\)\s*(.*)$", re.S)


def parse_url(value: str) -> Optional[Tuple[str, str]]:
    """``url(#id) rest`` -> (id, rest stripped: a paint's fallback, '' when none), or None
    when the value is not a local url() reference."""
    m = _URL.match(value)
    return (m.group(2), m.group(3).strip()) if m else None
