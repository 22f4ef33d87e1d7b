"""Reading SVG text into a small element tree without entity bombs or external access.

Internal general entities (``<!ENTITY name "value">`` in the DOCTYPE's internal subset) are
part of real SVG files, so they are expanded here by our own bounded substitution; the
DOCTYPE is then removed and the text is parsed with defusedxml with DTDs, entities and
external references forbidden. External entities (SYSTEM / PUBLIC) and parameter entities
are never fetched: they are dropped with a warning.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import defusedxml.ElementTree as DET
import regex
from defusedxml import DefusedXmlException
from xml.etree.ElementTree import ParseError

from ..errors import MAX_DEPTH, MAX_ELEMENTS, MAX_TEXT_CHARS

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
DV_NS = "https://github.com/diffvg-jax/diffvg_jax"  # diffvg_jax extension attributes
MASK_CONTENT_ROLE = "mask-content"   # dv:role of the <g> save_svg wraps a mask's content in

_PREDEFINED = {"amp", "lt", "gt", "quot", "apos"}
# possessive (linear-time): the value is a quoted string or anything up to '>' (stripped)
_ENTITY_DECL = regex.compile(r"<!ENTITY\s++(%\s++)?+([A-Za-z_:][\w.\-:]*+)\s++(\"[^\"]*+\"|'[^']*+'|[^>]*+)\s*+>")
_ENTITY_REF = re.compile(r"&([A-Za-z_:][\w.\-:]*);")


@dataclass(eq=False)
class Node:
    """One element: local tag name, attributes (namespaced ones as 'xlink:href' /
    'xml:space'; other foreign ones dropped), children, text, and whether the element
    is in the SVG namespace."""

    tag: str
    attrs: Dict[str, str]
    children: List["Node"] = field(default_factory=list)
    parent: Optional["Node"] = None
    text: str = ""
    is_svg: bool = True
    index: int = 0          # position among the parent's element children
    head: str = ""          # the text before the first child element (text content order)
    tail: str = ""          # the text after this element, before its next sibling

    def iter(self):
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def ancestors(self):
        """The parent, its parent, ... up to the root."""
        p = self.parent
        while p is not None:
            yield p
            p = p.parent

    def has_ancestor(self, other: "Node") -> bool:
        return any(p is other for p in self.ancestors())

    def href(self) -> str:
        """The stripped ``href`` (SVG 2) or else ``xlink:href``; '' when neither is set."""
        return (self.attrs.get("href", self.attrs.get("xlink:href")) or "").strip()


def read_source(source) -> str:
    """The SVG text from a path (str / os.PathLike), a text or a binary stream, or the text itself."""
    if hasattr(source, "read"):
        data = source.read(MAX_TEXT_CHARS + 1)
        if isinstance(data, bytes):
            data = _decode(data, "<stream>")
        if len(data) > MAX_TEXT_CHARS:
            raise ValueError(f"SVG stream is larger than {MAX_TEXT_CHARS} characters")
        return data
    if isinstance(source, bytes):
        return _decode(source, "<bytes>")
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "<" not in source):
        path = os.fspath(source)
        return _decode(read_regular_file(path, MAX_TEXT_CHARS, f"SVG file {path!r}"), path)
    if isinstance(source, str):
        if len(source) > MAX_TEXT_CHARS:
            raise ValueError(f"SVG text is larger than {MAX_TEXT_CHARS} characters")
        return source
    raise ValueError(f"load_svg: expected a path, SVG text or a stream, got {type(source).__name__}")


def read_regular_file(path: str, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ValueError for anything else
    (FIFOs, devices, directories, sockets: they could block or never end). The file is
    opened non-blocking and checked again through its descriptor (no race with a swap)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ValueError(f"{what} is not a regular file (not read)")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise ValueError(f"{what} is not a regular file (not read)")
            if st.st_size > limit:
                raise ValueError(f"{what} is {st.st_size} bytes; the limit is {limit}")
            data = f.read(limit + 1)
    except OSError as e:
        raise ValueError(f"cannot read {what}: {e.strerror or e}") from None
    if len(data) > limit:
        raise ValueError(f"{what} is larger than {limit} bytes")
    return data


def _decode(data: bytes, where: str) -> str:
    if data.startswith(b"\x1f\x8b"):
        raise ValueError(f"{where}: compressed SVG (svgz) is not supported; decompress it first")
    for enc in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{where}: the file is not UTF-8 or UTF-16 text")


def _find_doctype(text: str):
    """(start, end) of the DOCTYPE declaration, honouring quotes and the [ ... ] subset."""
    start = text.find("<!DOCTYPE")
    if start < 0:
        return None
    i, n, depth, quote = start + 9, len(text), 0, None
    while i < n:
        c = text[i]
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c == ">" and depth <= 0:
            return start, i + 1
        i += 1
    raise ValueError("malformed XML: unterminated <!DOCTYPE declaration")


def expand_entities(text: str, warn) -> str:
    """Remove the DOCTYPE and substitute its internal general entities, with bounds."""
    span = _find_doctype(text)
    if span is None:
        return text
    start, end = span
    decl = text[start:end]
    entities = {}
    for m in _ENTITY_DECL.finditer(decl):
        is_param, name, rest = m.group(1), m.group(2), m.group(3).strip()
        if is_param:
            warn(f"DOCTYPE: parameter entity %{name} ignored", key="param-entity")
            continue
        if rest[:1] in "\"'" and rest.endswith(rest[0]) and len(rest) >= 2:
            entities[name] = rest[1:-1]
        else:
            warn(f"DOCTYPE: external entity &{name}; not loaded (no file or network access)",
                 key="external-entity")
            entities[name] = ""
    body = text[:start] + text[end:]
    if not entities:
        return body
    limit = min(MAX_TEXT_CHARS, max(1_000_000, 20 * len(text)))

    def expand(s: str, depth: int) -> str:
        if depth > 8:
            raise ValueError("XML entity expansion nests deeper than 8 levels (entity bomb?)")
        out, pos, total = [], 0, 0
        for m in _ENTITY_REF.finditer(s):
            name = m.group(1)
            if name in _PREDEFINED or name not in entities:
                continue
            out.append(s[pos:m.start()])
            rep = expand(entities[name], depth + 1) if "&" in entities[name] else entities[name]
            out.append(rep)
            total += len(rep) + m.start() - pos
            if total > limit:
                raise ValueError(f"XML entity expansion exceeds {limit} characters (entity bomb?)")
            pos = m.end()
        out.append(s[pos:])
        return "".join(out)

    return expand(body, 0)


def _split_tag(tag: str):
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def parse_document(text: str, warn) -> Node:
    """Parse SVG text into a Node tree rooted at the outermost <svg> element."""
    text = expand_entities(text, warn)
    try:
        root = DET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as e:
        raise ValueError(f"malformed XML: {e}") from None
    except DefusedXmlException as e:
        raise ValueError(f"forbidden XML construct: {e}") from None
    ns, local = _split_tag(root.tag)
    if local != "svg" or ns not in (SVG_NS, None):
        raise ValueError(f"the root element is <{local}>, not an SVG <svg> element")
    svg_ns = ns  # documents without any namespace are read as SVG (common in the wild)
    count = 0

    def convert(el, parent, depth, index):
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise ValueError(f"SVG has more than {MAX_ELEMENTS} elements")
        if depth > MAX_DEPTH:
            raise ValueError(f"SVG elements nest deeper than {MAX_DEPTH} levels")
        ens, elocal = _split_tag(el.tag) if isinstance(el.tag, str) else (None, "")
        attrs = {}
        for k, v in el.attrib.items():
            ans, alocal = _split_tag(k)
            if ans is None:
                attrs[alocal] = v
            elif ans == XLINK_NS:
                attrs["xlink:" + alocal] = v
            elif ans == XML_NS:
                attrs["xml:" + alocal] = v
            elif ans == DV_NS:
                attrs["dv:" + alocal] = v
        node = Node(tag=elocal, attrs=attrs, parent=parent, is_svg=(ens == svg_ns), index=index,
                    text=el.text or "", head=el.text or "")
        k = 0
        for child in el:
            if not isinstance(child.tag, str):  # comments / processing instructions
                continue
            node.children.append(convert(child, node, depth + 1, k))
            k += 1
            if child.tail:
                node.text += child.tail
                node.children[-1].tail = child.tail
        return node

    return convert(root, None, 0, 0)
