"""Conditional processing (SVG 1.1 5.8 / SVG 2 5.7): systemLanguage, requiredFeatures and
requiredExtensions decide whether an element renders, in a <switch> and everywhere else
(the root <svg> included); the conditions of referenced-only elements (clipPath, defs,
gradients) do not matter. The user language is English. Checked on the rule's own
examples (BCP 47 prefix matching) and on the scenes the loader builds (no rendering).
"""
import warnings

import pytest

import diffvg_jax as dv
from diffvg_jax.svg import load_svg
from diffvg_jax.svg.read.conditions import language_matches

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def load(body, root_attrs=""):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_svg(f'<svg {NS} width="20" height="20" {root_attrs}>{body}</svg>')


def ids(scene):
    out = []
    for c in scene.children:
        out += ([c.id] if c.id else []) + (ids(c) if isinstance(c, dv.Group) else [])
    return out


@pytest.mark.parametrize("value, ok", [
    ("en", True), ("en-US", True), ("en-GB", True), ("EN-gb", True), ("fr, en-AU", True), (" en ", True),
    ("ru-RU", False), ("english", False), ("enx-US", False), ("", False), ("fr,de", False),
])
def test_language_matching_is_bcp47_prefix_matching(value, ok):
    assert language_matches(value) is ok


@pytest.mark.parametrize("attrs, shown", [
    ('systemLanguage="en-US"', True), ('systemLanguage="ru-RU"', False), ('systemLanguage=""', False),
    ('requiredExtensions="http://example.org/bogus"', False), ('requiredExtensions=""', False),
    ('requiredFeatures="http://www.w3.org/TR/SVG11/feature#Shape"', True),
    ('requiredFeatures="http://www.w3.org/TR/SVG11/feature#Shape http://www.w3.org/TR/SVG11/feature#Font"', False),
    ('requiredFeatures=""', False),
])
def test_conditions_apply_outside_switch(attrs, shown):
    scene = load(f'<rect id="a" width="5" height="5"/><rect id="b" width="5" height="5" {attrs}/>'
                 f'<g id="g" {attrs}><rect id="c" width="5" height="5"/></g>')
    assert ids(scene) == (["a", "b", "g", "c"] if shown else ["a"])


def test_switch_renders_its_first_passing_child():
    scene = load('<switch id="s"><rect id="ru" width="5" height="5" systemLanguage="ru"/>'
                 '<rect id="gb" width="5" height="5" systemLanguage="en-GB"/>'
                 '<rect id="any" width="5" height="5"/></switch>')
    assert ids(scene) == ["s", "gb"]


def test_failing_root_svg_renders_nothing():
    assert load('<rect width="5" height="5"/>', 'systemLanguage="ru-RU"').children == ()
    assert len(load('<rect width="5" height="5"/>', 'systemLanguage="en"').children) == 1


def test_referenced_elements_ignore_their_own_conditions():
    scene = load('<clipPath id="c" systemLanguage="ru"><rect width="4" height="4"/>'
                 '<rect id="dropped" x="10" width="4" height="4" systemLanguage="ru"/></clipPath>'
                 '<defs systemLanguage="ru"><linearGradient id="lg"><stop offset="0" stop-color="red"/>'
                 '<stop offset="1" stop-color="blue"/></linearGradient></defs>'
                 '<rect id="r" width="10" height="10" fill="url(#lg)" clip-path="url(#c)"/>')
    (group,) = scene.children
    assert isinstance(group.children[0].fill, dv.LinearGradient)
    assert len(group.clip.children) == 1    # the clipPath applies; its failing child does not


def test_use_of_a_failing_element_and_failing_use():
    scene = load('<defs><rect id="r" width="5" height="5" systemLanguage="ru"/>'
                 '<rect id="ok" width="5" height="5"/></defs>'
                 '<use id="u1" href="#r"/><use id="u2" href="#ok" systemLanguage="ru"/>'
                 '<use id="u3" href="#ok"/>')
    assert ids(scene) == ["u3", "ok"]
