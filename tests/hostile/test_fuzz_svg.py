"""Hypothesis-generated hostile documents (structure, numbers, path data, CSS, references):
each load ends within a deadline in a scene with finite leaves, a ValueError, or
SVGWarnings, and nothing else. The deadline is a hang guard, not a benchmark."""
import warnings

import jax
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffvg_jax.svg import SVGWarning, load_svg

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'

NUMBERS = st.one_of(
    st.sampled_from(["0", "-0", "1", "1e-20", "1e-320", "1e38", "3.4e38", "1e39", "1e308", "NaN", "inf", "-inf",
                     "1e", ".", "-.5e-3", "5%", "1em", "2ex", "3mm", "", " ", "1_0", "0x10", "9" * 400]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**40, 10**40).map(str))
IDS = st.sampled_from(["a", "b", "c", "g", "p", "m"])
REF = IDS.map(lambda i: f"url(#{i})")
COLORS = st.one_of(st.sampled_from(["red", "none", "currentColor", "#fff", "#12345", "rgb(1,2,3)", "hsl(1 2% 3%)",
                                    "rgb(" + " " * 300 + "x", "transparent", "inherit"]), REF)


@st.composite
def path_data(draw):
    cmds = draw(st.lists(st.tuples(st.sampled_from("MmLlHhVvCcSsQqTtAaZzX"), st.lists(NUMBERS, max_size=8)),
                         max_size=12))
    return "M0 0 " + " ".join(c + " " + " ".join(a) for c, a in cmds)


@st.composite
def transforms(draw):
    items = draw(st.lists(st.tuples(st.sampled_from(["matrix", "translate", "scale", "rotate", "skewX", "skewY"]),
                                    st.lists(NUMBERS, max_size=7)), max_size=4))
    return " ".join(f"{name}({' '.join(args)})" for name, args in items)


ATTRS = {
    "x": NUMBERS, "y": NUMBERS, "width": NUMBERS, "height": NUMBERS, "r": NUMBERS, "rx": NUMBERS, "cx": NUMBERS,
    "x1": NUMBERS, "x2": NUMBERS, "fx": NUMBERS, "fr": NUMBERS, "offset": NUMBERS, "stroke-width": NUMBERS,
    "stroke-dasharray": st.lists(NUMBERS, min_size=1, max_size=4).map(" ".join), "stroke-dashoffset": NUMBERS,
    "stroke-miterlimit": NUMBERS, "opacity": NUMBERS, "font-size": NUMBERS, "fill": COLORS, "stroke": COLORS,
    "stop-color": COLORS, "clip-path": REF, "mask": REF, "marker-mid": REF, "marker-end": REF, "href": IDS.map("#".__add__),
    "id": IDS, "class": st.sampled_from(["k", "k j"]), "transform": transforms(), "gradientTransform": transforms(),
    "patternTransform": transforms(), "d": path_data(), "points": st.lists(NUMBERS, max_size=8).map(" ".join),
    "viewBox": st.lists(NUMBERS, min_size=4, max_size=4).map(" ".join), "patternUnits": st.just("userSpaceOnUse"),
    "markerWidth": NUMBERS, "orient": st.sampled_from(["auto", "45", "nan"]),
    "style": st.sampled_from(["fill: url(#p) !important", "stroke:red;stroke-dasharray:1e-20", "display:none"]),
}
TAGS = ["g", "rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "use", "svg", "symbol", "defs",
        "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker", "image", "switch", "a"]
SELECTORS = st.lists(st.sampled_from(["g", "rect", "*", ".k", "#a", "[fill]", ":first-child", ">", "+", "~", " "]),
                     min_size=1, max_size=12).map(" ".join)


@st.composite
def documents(draw):
    def node(depth):
        tag = draw(st.sampled_from(TAGS))
        names = draw(st.lists(st.sampled_from(sorted(ATTRS)), max_size=6, unique=True))
        attrs = "".join(f' {n}="{draw(ATTRS[n])}"' for n in names)
        kids = "".join(node(depth + 1) for _ in range(draw(st.integers(0, 3 if depth < 4 else 0))))
        return f"<{tag}{attrs}>{kids}</{tag}>"

    css = draw(st.lists(st.tuples(SELECTORS, st.sampled_from(sorted(ATTRS)), st.sampled_from(["red", "1e39", "url(#p)"])),
                        max_size=3))
    sheet = "".join(f"{sel} {{{prop}: {val}}}\n" for sel, prop, val in css)
    body = "".join(node(0) for _ in range(draw(st.integers(1, 4))))
    size = draw(st.sampled_from(['width="64" height="64"', 'viewBox="0 0 10 10"', 'width="1e39"', 'viewBox="nan 0 1e-320 1"']))
    return f"<svg {NS} {size}><style>{sheet}</style>{body}</svg>"


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(documents())
def test_generated_documents_end_cleanly(deadline, doc):
    with deadline(20), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            scene = load_svg(doc)
        except ValueError:
            scene = None
    foreign = [w for w in seen if not issubclass(w.category, SVGWarning)]
    assert not foreign, [str(w.message) for w in foreign]
    if scene is not None:
        assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree_util.tree_leaves(scene))
