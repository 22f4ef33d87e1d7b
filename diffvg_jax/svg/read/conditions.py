"""Conditional processing for load_svg: ``systemLanguage``, ``requiredFeatures`` and
``requiredExtensions`` (SVG 1.1 5.8, SVG 2 5.7).

An element whose conditions fail is not rendered, with its children, wherever it is: in a
``<switch>`` (which renders its first child that passes), and on any other rendered
element, the root ``<svg>`` included (an unrendered root draws nothing). The conditions of
elements that are only referenced (``<clipPath>``, ``<mask>``, ``<pattern>``, ``<marker>``,
gradients, ``<defs>``) do not matter, as in resvg.

  * ``systemLanguage``: a comma-separated list of BCP 47 tags; true when one of them equals
    a user language or starts with one followed by '-' (``en-GB`` matches ``en``). BCP 47
    tags compare case-insensitively. The user languages are ``USER_LANGUAGES`` (resvg's
    default, English). An empty list is false.
  * ``requiredExtensions``: we implement no extension, so present means false.
  * ``requiredFeatures`` (SVG 1.1 only; SVG 2 dropped it): true when every feature string
    of the space-separated list is one we support (``FEATURES``, the SVG 1.1 feature
    strings resvg lists); an empty value is false.
"""
from __future__ import annotations

from typing import Tuple

USER_LANGUAGES: Tuple[str, ...] = ("en",)
_FEATURE = "http://www.w3.org/TR/SVG11/feature#"
FEATURES = frozenset(_FEATURE + f for f in (
    "SVGDOM-static", "SVG-static", "CoreAttribute", "Structure", "BasicStructure", "ContainerAttribute",
    "ConditionalProcessing", "Image", "Style", "Shape", "Text", "BasicText", "PaintAttribute",
    "BasicPaintAttribute", "OpacityAttribute", "GraphicsAttribute", "BasicGraphicsAttribute", "Marker",
    "Gradient", "Pattern", "Clip", "BasicClip", "Mask", "Filter", "BasicFilter", "XlinkAttribute"))


def passes(node) -> bool:
    """True if the element's conditional-processing attributes all evaluate to true."""
    attrs = node.attrs
    if "requiredExtensions" in attrs:
        return False
    features = attrs.get("requiredFeatures")
    if features is not None and not (features.split() and all(f in FEATURES for f in features.split())):
        return False
    langs = attrs.get("systemLanguage")
    return langs is None or language_matches(langs)


def language_matches(text: str, user: Tuple[str, ...] = USER_LANGUAGES) -> bool:
    """Whether a ``systemLanguage`` value names one of the ``user`` languages."""
    wanted = [u.lower() for u in user]
    for tag in text.split(","):
        tag = tag.strip().lower()
        if any(tag == u or tag.startswith(u + "-") for u in wanted):
            return True
    return False
