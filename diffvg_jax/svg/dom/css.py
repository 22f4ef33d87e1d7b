"""A small CSS reader for SVG: style sheets, the style attribute, selectors, cascade.

Selectors: type, ``*``, ``.class``, ``#id``, ``[attr]``, ``[attr=value]``, ``[attr~=v]``,
``[attr^=v]``, ``[attr$=v]``, ``[attr*=v]``, ``:first-child``, compounds of these, and the
descendant (space), child (``>``), adjacent (``+``) and sibling (``~``) combinators.
Rules with any other selector are skipped (with a warning). Specificity and ``!important``
follow CSS 2.1. ``parse_url`` reads the ``url(#id)`` references of property values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
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
    parts: List[Compound]        # left to right
    combinators: List[str]       # between parts: ' ', '>', '+', '~'
    specificity: Tuple[int, int, int]

    def matches(self, node) -> bool:
        return _match_from(self, len(self.parts) - 1, node)


def _prev_sibling(node):
    if node.parent is None or node.index == 0:
        return None
    return node.parent.children[node.index - 1]


def _match_from(sel: Selector, i: int, node) -> bool:
    if not sel.parts[i].matches(node):
        return False
    if i == 0:
        return True
    comb = sel.combinators[i - 1]
    if comb == ">":
        return node.parent is not None and _match_from(sel, i - 1, node.parent)
    if comb == " ":
        p = node.parent
        while p is not None:
            if _match_from(sel, i - 1, p):
                return True
            p = p.parent
        return False
    if comb == "+":
        s = _prev_sibling(node)
        return s is not None and _match_from(sel, i - 1, s)
    s = _prev_sibling(node)
    while s is not None:
        if _match_from(sel, i - 1, s):
            return True
        s = _prev_sibling(s)
    return False


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
        c = re.compile(r"\s*([>+~])\s*|\s+").match(text, pos)
        if not c:
            raise ValueError(f"unsupported selector {text!r}")
        combs.append(c.group(1) or " ")
        pos = c.end()
    return Selector(parts, combs, tuple(spec))


def parse_declarations(text: str) -> List[Tuple[str, str, bool]]:
    """'a: b; c: d !important' -> [(name, value, important)], names lower-cased."""
    out = []
    for decl in _split_outside_parens(_COMMENT.sub("", text), ";"):
        name, sep, value = decl.partition(":")
        if not sep:
            continue
        name, value = name.strip().lower(), value.strip()
        important = False
        m = re.search(r"!\s*important\s*$", value, re.I)
        if m:
            important, value = True, value[:m.start()].strip()
        if name and value:
            out.append((name, value, important))
    return out


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
    text = _COMMENT.sub("", text)
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
            name = re.match(r"@[\w\-]*", text[pos:]).group(0)
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


def cascade(node, rules: List[Rule], presentation: Dict[str, str]) -> Dict[str, str]:
    """Specified values of one element: presentation attributes < sheet rules (by
    specificity, then order) < the style attribute; !important declarations above all."""
    normal, important = [], []
    for rule in rules:
        if rule.selector.matches(node):
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
