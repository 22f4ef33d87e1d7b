"""Write the hostile SVG corpus of tests/hostile/corpus/ (run by hand; the files are committed).

    python tests/hostile/make_corpus.py

Each file is small and aims at one class of defect of issue 13: super-linear parsing,
unbounded loops, late limits, foreign exceptions, non-finite numbers, bad references.
test_corpus.py loads every file in a child process with a wall-time and memory limit and
accepts a scene, a ValueError or SVGWarnings, nothing else.
"""
from __future__ import annotations

import base64
import os
import struct
import zlib

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def svg(body: str, attrs: str = 'width="64" height="64"') -> str:
    return f"<svg {NS} {attrs}>{body}</svg>\n"


def png_header(w: int, h: int) -> bytes:
    """A PNG whose IHDR says w x h (valid CRC) with a tiny, broken IDAT."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data
                                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def data_png(w: int, h: int) -> str:
    return "data:image/png;base64," + base64.b64encode(png_header(w, h)).decode()


def parsing():
    """Class 1: inputs that made regexes backtrack (colours, lengths, transforms, CSS)."""
    yield "color_spaces", svg(f'<rect width="9" height="9" fill="rgb({" " * 20000}x"/>')
    yield "color_commas", svg(f'<rect width="9" height="9" fill="rgb({", " * 20000}x"/>')
    yield "color_hsl_spaces", svg(f'<rect width="9" height="9" fill="hsl(1{" " * 20000}"/>')
    yield "color_long_hex", svg(f'<rect width="9" height="9" fill="#{"f" * 50000}"/>')
    yield "length_digits", svg(f'<rect width="{"1" * 20000}x" height="9"/>')
    yield "length_digits_dot", svg(f'<rect width="{"1" * 10000}.{"1" * 10000}ee" height="9"/>')
    yield "length_spaces", svg(f'<rect width="1{" " * 20000}x" height="9"/>')
    yield "transform_spaces", svg(f'<rect transform="{" " * 20000}x" width="9" height="9"/>')
    yield "transform_commas", svg(f'<rect transform="translate({",1" * 20000}" width="9" height="9"/>')
    yield "transform_many_items", svg(f'<rect transform="{"scale(1) " * 20000}" width="9" height="9"/>')
    yield "transform_digits", svg(f'<rect transform="scale({"9" * 20000}x)" width="9" height="9"/>')
    yield "numbers_points", svg(f'<polyline points="{"1" * 20000}e" stroke="red"/>')
    yield "path_digits", svg(f'<path d="M{"1" * 20000}e" stroke="red"/>')
    yield "path_seps", svg(f'<path d="M0 0{" ," * 20000}x" stroke="red"/>')
    yield "path_many_flags", svg(f'<path d="M0 0 A1 1 0 {"0" * 20000}" stroke="red"/>')
    yield "viewbox_digits", svg("<rect width='9' height='9'/>", f'viewBox="0 0 {"9" * 20000}x 9"')
    for depth in (28, 60):
        sel = "x " + "g " * 10 + "rect"
        yield f"css_descendant_{depth}", svg(f"<style>{sel} {{fill:red}}</style>" + "<g>" * depth
                                             + '<rect width="1" height="1"/>' + "</g>" * depth)
    yield "css_sibling_chain", svg("<style>x ~ " + "rect ~ " * 30 + "rect {fill:red}</style>"
                                   + '<rect width="1" height="1"/>' * 3000)
    yield "css_many_rules", svg("<style>" + "g rect {fill:red}\n" * 20000 + "</style>"
                                + "<g>" * 50 + '<rect width="1" height="1"/>' * 200 + "</g>" * 50)
    yield "css_unterminated_comments", svg("<style>" + "/*" * 30000 + "</style>")
    yield "css_important_spaces", svg(f'<rect width="9" height="9" style="fill: red !{" " * 30000}x"/>')
    yield "css_at_rules", svg("<style>" + "@x;" * 30000 + "</style>")
    yield "css_long_selector", svg("<style>" + "g>" * 5000 + "rect{fill:red}</style>")
    yield "css_attr_selector", svg("<style>[a" + "=b" * 10000 + "]{fill:red}</style>")
    yield "url_unterminated", svg(f'<rect width="9" height="9" fill="url(#{"a" * 30000}"/>')
    yield "entity_spaces", (f'<!DOCTYPE svg [<!ENTITY a {" " * 30000}x>]>' + svg(""))
    yield "entity_unterminated", (f'<!DOCTYPE svg [<!ENTITY a "{" " * 30000}' + svg(""))


def loops():
    """Class 2 and 4: work driven by numbers or references, which must be refused before it is done."""
    for i, (da, length) in enumerate([("1e-20", 100), ("0.001", 1e6), ("0 1e-20", 100), ("1e-30 1", 100),
                                      ("1 1e-30", 100), ("1e-7", 1), ("5e-324", 10), ("1e38 1e38", 100),
                                      ("1 1 1 1 1 1 1 1 1 1e-20", 1e4), ("0.0001", 1000)]):
        yield f"dash_{i}", svg(f'<path stroke="red" stroke-linecap="round" stroke-dasharray="{da}" d="M0 0 L{length} 0"/>')
    yield "dash_offset_huge", svg('<path stroke="red" stroke-dasharray="1 1" stroke-dashoffset="1e38" d="M0 0 L100 0"/>')
    yield "dash_long_pattern", svg(f'<path stroke="red" stroke-dasharray="{"1 " * 100000}" d="M0 0 L100 0"/>')
    yield "dash_many_subpaths", svg('<path stroke="red" stroke-dasharray="0.5" d="'
                                    + "M0 0 L1 0 " * 20000 + '"/>')
    levels = '<rect id="l0" width="1" height="1"/>' + "".join(
        f'<g id="l{i}"><use href="#l{i - 1}"/><use href="#l{i - 1}"/></g>' for i in range(1, 31))
    yield "use_fanout_2", svg(levels)
    levels = '<rect id="l0" width="1" height="1"/>' + "".join(
        f'<g id="l{i}">' + f'<use href="#l{i - 1}"/>' * 10 + "</g>" for i in range(1, 12))
    yield "use_fanout_10", svg(levels)
    yield "use_symbol_fanout", svg('<symbol id="s0"><rect width="1" height="1"/></symbol>' + "".join(
        f'<symbol id="s{i}"><use href="#s{i - 1}"/><use href="#s{i - 1}"/><use href="#s{i - 1}"/></symbol>'
        for i in range(1, 20)) + '<use href="#s19"/>')
    yield "use_cycle", svg('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>')
    yield "use_self", svg('<use id="u" href="#u"/>')
    yield "use_chain_deep", svg("".join(f'<g id="c{i}"><use href="#c{i + 1}"/></g>' for i in range(400))
                                + '<rect id="c400" width="1" height="1"/>')
    yield "nesting_deep", svg("<g>" * 500 + "</g>" * 500)
    yield "many_rects", svg("<rect/>" * 100001)
    yield "many_elements", svg("<a/>" * 200001)
    yield "path_many_segments", svg('<path stroke="red" d="M0 0' + " L1 1 L0 0" * 60000 + '"/>')
    yield "path_many_arcs", svg('<path stroke="red" d="M0 0' + " A5 5 0 1 1 10 0 A5 5 0 1 1 0 0" * 5000 + '"/>')
    yield "polyline_many_points", svg('<polyline stroke="red" points="' + "0 0 1 1 " * 50000 + '"/>')
    yield "marker_many_vertices", svg('<marker id="m"><rect width="1" height="1"/></marker>'
                                      '<path marker-mid="url(#m)" d="M0 0' + " L1 1 L0 0" * 3000 + '"/>')
    yield "pattern_recursive", svg('<pattern id="p" width="1" height="1"><rect width="1" height="1" fill="url(#p)"/>'
                                   '</pattern><rect width="9" height="9" fill="url(#p)"/>')
    yield "pattern_fanout", svg('<pattern id="p0" width="1" height="1" patternUnits="userSpaceOnUse">'
                                + '<rect width="1" height="1"/>' * 1000 + "</pattern>"
                                + '<rect width="1" height="1" fill="url(#p0)"/>' * 200)
    yield "gradient_href_cycle", svg('<linearGradient id="a" href="#b"/><linearGradient id="b" href="#a"/>'
                                     '<rect width="9" height="9" fill="url(#a)"/>')
    yield "clip_cycle", svg('<clipPath id="c" clip-path="url(#c)"><rect width="1" height="1"/></clipPath>'
                            '<rect width="9" height="9" clip-path="url(#c)"/>')
    yield "mask_cycle", svg('<mask id="m"><rect width="1" height="1" mask="url(#m)"/></mask>'
                            '<rect width="9" height="9" mask="url(#m)"/>')
    bomb = ('<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
            + "".join(f'<!ENTITY {c} "&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};">'
                      for p, c in zip("abcdefgh", "bcdefghi")) + "]>")
    yield "entity_bomb", bomb + svg("<desc>&i;</desc>")


def numbers():
    """Class 5 and 6: errors that escaped as foreign exceptions, numbers that are not float32."""
    yield "path_error_after_close", svg('<path id="p" d="M0 0 H10 V10 Z X"/>')
    yield "path_error_after_close_rel", svg('<path d="m0 0 h10 v10 z m 1 1 l 1 1 z q"/>')
    yield "arc_huge_radii", svg('<path id="a" stroke="red" d="M0 0 A 1e308 1e308 0 0 1 10 10"/>')
    yield "arc_huge_endpoint", svg('<path stroke="red" d="M0 0 A 1 1 0 0 1 3e38 3e38"/>')
    yield "arc_relative_overflow", svg('<path stroke="red" d="M3e38 0 a 1 1 0 0 1 3e38 0"/>')
    yield "arc_tiny_radii", svg('<path stroke="red" d="M0 0 A 1e-320 1e-320 0 0 1 10 10"/>')
    yield "arc_nan_rotation", svg('<path stroke="red" d="M0 0 A 1 1 nan 0 1 10 10"/>')
    yield "path_relative_overflow", svg('<path stroke="red" d="M3e38 0 l 3e38 0 l 3e38 0"/>')
    yield "png_bomb_header", svg(f'<image id="im" href="{data_png(20000, 20000)}" width="9" height="9"/>')
    yield "png_bomb_huge", svg(f'<image href="{data_png(100000, 100000)}" width="9" height="9"/>')
    yield "png_zero", svg(f'<image href="{data_png(0, 0)}" width="9" height="9"/>')
    yield "png_truncated", svg('<image href="data:image/png;base64,'
                               + base64.b64encode(png_header(4, 4)[:40]).decode() + '" width="9" height="9"/>')
    yield "gif_data", svg('<image href="data:image/png;base64,R0lGODlhAQABAAAAACw=" width="9" height="9"/>')
    yield "jpeg_garbage", svg('<image href="data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ==" width="9" height="9"/>')
    yield "image_fifo_like", svg('<image href="/dev/zero" width="9" height="9"/><image href="../../../../dev/zero"/>')
    for k, (tag, attrs) in enumerate([
            ("linearGradient", 'x1="NaN"'), ("linearGradient", 'x2="inf" gradientUnits="userSpaceOnUse"'),
            ("radialGradient", 'r="inf"'), ("radialGradient", 'fx="-inf" fy="nan"'),
            ("radialGradient", 'r="1e39" gradientUnits="userSpaceOnUse"'),
            ("linearGradient", 'gradientTransform="scale(1e20) scale(1e20)"'),
            ("linearGradient", 'gradientTransform="matrix(1e38 0 0 1e38 3e38 3e38)"')]):
        yield f"gradient_{k}", svg(f'<{tag} id="g" {attrs}><stop offset="0"/><stop offset="1" stop-color="red"/>'
                                   f'</{tag}><rect width="9" height="9" fill="url(#g)"/>')
    for k, attrs in enumerate(['width="1e39" height="1"', 'x="3e38" width="3e38" height="1"',
                               'width="1e-20" height="1"', 'width="1e-320" height="1e-320"',
                               'width="NaN" height="inf"', 'rx="1e39" width="1" height="1"',
                               'transform="scale(1e20) scale(1e20)" width="1" height="1"',
                               'transform="rotate(1e308)" width="1" height="1"',
                               'transform="matrix(3e38 0 0 3e38 0 0) translate(10 10)" width="1" height="1"',
                               'stroke="red" stroke-width="1e39" width="1" height="1"',
                               'stroke="red" stroke-miterlimit="inf" width="1" height="1"',
                               'opacity="nan" fill-opacity="inf" width="1" height="1"',
                               'font-size="1e38" width="1e3em" height="1"']):
        yield f"rect_{k}", svg(f"<rect {attrs}/>")
    yield "circle_tiny", svg('<circle r="1e-50"/><ellipse rx="1e-46" ry="1"/>')
    yield "viewbox_tiny", svg('<rect width="1" height="1"/>', 'width="10" height="10" viewBox="0 0 1e-320 1e-320"')
    yield "viewbox_huge", svg('<rect width="1" height="1"/>', 'width="10" height="10" viewBox="0 0 1e38 1e-30"')
    yield "viewbox_nan", svg('<rect width="1" height="1"/>', 'width="10" height="10" viewBox="0 0 nan nan"')
    yield "nested_svg_tiny", svg('<svg width="10" height="10" viewBox="0 0 1e-31 1e-31"><rect width="1" height="1"/></svg>')
    yield "use_translate_overflow", svg('<rect id="r" x="3e38" width="1" height="1"/><use href="#r" x="3e38"/>'
                                        '<use href="#r" transform="translate(3e38)" x="3e38"/>')
    yield "canvas_inf", svg("", 'width="inf" height="1e39"')
    yield "canvas_nan", svg("", 'width="nan" height="10"')
    yield "canvas_tiny", svg("", 'width="1e-320" height="1e-320"')
    yield "pattern_huge", svg('<pattern id="p" width="1e38" height="1e-38" patternUnits="userSpaceOnUse">'
                              '<rect width="1" height="1"/></pattern><rect width="9" height="9" fill="url(#p)"/>')
    yield "marker_huge", svg('<marker id="m" markerWidth="1e38" viewBox="0 0 1e-30 1"><rect width="1" height="1"/>'
                             '</marker><path stroke="red" stroke-width="1e30" marker-end="url(#m)" d="M0 0 L1 1"/>')
    yield "mask_region_huge", svg('<mask id="m" x="-3e38" width="3e38" maskUnits="userSpaceOnUse">'
                                  '<rect width="9" height="9" fill="white"/></mask><rect width="9" height="9" mask="url(#m)"/>')
    yield "stop_nan", svg('<linearGradient id="g"><stop offset="nan" stop-opacity="inf"/><stop offset="inf"/>'
                          '</linearGradient><rect width="9" height="9" fill="url(#g)"/>')
    yield "stroke_widths_nan", svg('<path stroke="red" dv:stroke-widths="nan nan" d="M0 0 L1 1" '
                                   'xmlns:dv="https://github.com/diffvg-jax/diffvg_jax"/>')
    yield "dv_pixels_broken", svg('<image dv:pixels="1 1 AAAAAAAA" width="9" height="9" '
                                  'xmlns:dv="https://github.com/diffvg-jax/diffvg_jax"/>')
    yield "xml_broken", "<svg"
    yield "xml_not_svg", "<html/>"
    yield "xml_binary", "<svg \x00\x01\x02>"
    yield "xml_external_entity", (f'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                  + svg('<rect id="&x;" width="1" height="1"/>'))


def main() -> None:
    os.makedirs(HERE, exist_ok=True)
    for old in os.listdir(HERE):
        if old.endswith(".svg"):
            os.remove(os.path.join(HERE, old))
    count = 0
    for group in (parsing, loops, numbers):
        for name, text in group():
            with open(os.path.join(HERE, f"{group.__name__}_{name}.svg"), "w", encoding="utf-8") as f:
                f.write(text)
            count += 1
    print(f"wrote {count} files to {HERE}")


if __name__ == "__main__":
    main()
