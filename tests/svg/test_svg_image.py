"""<image> / ImagePaint: rendering against the image itself, preserveAspectRatio placement
against hand-computed transforms, gradients against float64 finite differences, href
decoding (data URIs, files, refused URLs, broken data) and the exact save / load round trip.

Few distinct scene structures (each render compiles on a 2-core CPU).
"""
import base64
import io
import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

import diffvg_jax as dv
from diffvg_jax.paint import evaluate_paint
from diffvg_jax.svg import SVGWarning, load_svg, to_svg_text

from support.fd_report import (finite_difference_report, median_relative_error, parameter_mask, report_in_subprocess,
                       save_report)


def _png_uri(rgba_u8, fmt="PNG", mime="image/png"):
    out = io.BytesIO()
    im = Image.fromarray(rgba_u8, "RGBA")
    (im.convert("RGB") if fmt == "JPEG" else im).save(out, format=fmt)
    return f"data:{mime};base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _svg(body, w=20, h=14):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{w}" height="{h}">{body}</svg>')


def _blocks():
    """uint8 (8, 12, 4): four 4 x 6 blocks of distinct colours (one half transparent)."""
    blk = np.array([[[230, 20, 20, 255], [20, 200, 40, 255]], [[30, 40, 220, 255], [240, 220, 10, 128]]], np.uint8)
    return np.repeat(np.repeat(blk, 4, axis=0), 6, axis=1)


def _interior(h, w, block_h, block_w):
    """bool (h, w): pixels at least one pixel away from every block edge."""
    i, j = np.arange(h) % block_h, np.arange(w) % block_w
    return ((i > 0) & (i < block_h - 1))[:, None] & ((j > 0) & (j < block_w - 1))[None, :]


# ---------------------------------------------------------------------------------------
# values: pixel-aligned image renders its own colours
# ---------------------------------------------------------------------------------------


def test_pixel_aligned_image_renders_its_colours():
    u8 = _blocks()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SVGWarning)
        scene = load_svg(_svg(f'<image x="3" y="2" href="{_png_uri(u8)}"/>'))   # auto size: 12 x 8
    rect = scene.children[0]
    assert isinstance(rect, dv.Rect) and isinstance(rect.fill, dv.ImagePaint)
    np.testing.assert_array_equal(np.asarray(rect.p_min), [3, 2])
    np.testing.assert_array_equal(np.asarray(rect.p_max), [15, 10])
    got = np.asarray(dv.render(scene, width=20, height=14))
    ref = u8.astype(np.float32) / 255.0   # independent reference: the image itself
    inner = _interior(8, 12, 4, 6)
    assert np.abs(got[2:10, 3:15][inner] - ref[inner]).max() < 1e-4
    outside = np.ones((14, 20), bool)
    outside[2:10, 3:15] = False
    assert np.all(got[outside] == 0)


def test_evaluate_image_under_jit_and_vmap():
    rng = np.random.default_rng(0)
    paints = [dv.ImagePaint(pixels=rng.uniform(0.2, 1.0, (3, 5, 4)),
                            transform=[[2.0, 0.3, 1.0], [-0.2, 1.5, 2.0], [0, 0, 1]]) for _ in range(2)]
    xy = jnp.asarray(rng.uniform(-2, 12, (7, 2)), jnp.float32)
    single = [np.asarray(evaluate_paint(p, xy)) for p in paints]
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *paints)
    batched = np.asarray(jax.jit(jax.vmap(evaluate_paint, in_axes=(0, None)))(stacked, xy))
    np.testing.assert_allclose(batched, np.stack(single), atol=1e-6)
    # outside [0, w] x [0, h] (image space) transparent
    far = np.asarray(evaluate_paint(paints[0], jnp.asarray([[-50.0, -50.0], [100.0, 3.0]])))
    assert np.all(far == 0)


# ---------------------------------------------------------------------------------------
# preserveAspectRatio placement
# ---------------------------------------------------------------------------------------

# image 4 x 2 px in the viewport x=10 y=20 width=40 height=40
PAR_CASES = {
    "none": ([[10, 0, 10], [0, 20, 20]], (10, 20, 50, 60)),
    "xMidYMid": ([[10, 0, 10], [0, 10, 30]], (10, 30, 50, 50)),          # meet: s = 10, 40 x 20 centred
    "xMaxYMin meet": ([[10, 0, 10], [0, 10, 20]], (10, 20, 50, 40)),
    "xMinYMax slice": ([[20, 0, 10], [0, 20, 20]], (10, 20, 50, 60)),    # s = 20: 80 x 40, clipped
    "xMidYMid slice": ([[20, 0, -10], [0, 20, 20]], (10, 20, 50, 60)),
}


def test_preserve_aspect_ratio_positions():
    uri = _png_uri(np.full((2, 4, 4), 200, np.uint8))
    body = "".join(f'<image id="i{k}" x="10" y="20" width="40" height="40" preserveAspectRatio="{par}" '
                   f'xlink:href="{uri}"/>' for k, par in enumerate(PAR_CASES))
    scene = load_svg(_svg(body, 64, 64))
    assert len(scene.children) == len(PAR_CASES)
    for rect, (par, (t, box)) in zip(scene.children, PAR_CASES.items()):
        np.testing.assert_allclose(np.asarray(rect.fill.transform)[:2], t, err_msg=par)
        np.testing.assert_allclose(np.concatenate([rect.p_min, rect.p_max]), box, err_msg=par)


def test_image_transform_opacity_and_one_auto_size():
    uri = _png_uri(np.full((2, 4, 4), 200, np.uint8))
    scene = load_svg(_svg(f'<image width="8" transform="translate(1 2)" opacity="0.5" href="{uri}"/>'))
    rect = scene.children[0]
    np.testing.assert_allclose(np.asarray(rect.p_max), [8, 4])   # height follows the aspect ratio
    np.testing.assert_allclose(np.asarray(rect.transform)[:2, 2], [1, 2])
    assert float(rect.opacity) == 0.5


# ---------------------------------------------------------------------------------------
# gradients against float64 central finite differences (fresh interpreter: x64)
# ---------------------------------------------------------------------------------------

GW, GH = 14, 12
CHECKED = {".children[0].fill.pixels": "image pixels", ".children[0].fill.transform": "image transform"}


def _grad_scene(f):
    rng = np.random.default_rng(5)
    pix = rng.uniform(0.0, 1.0, (3, 4, 4))
    pix[..., 3] = rng.uniform(0.5, 1.0, (3, 4))
    c, s = np.cos(0.1) * 4.0, np.sin(0.1) * 4.0
    t = [[c, -s, 1.3], [s, c, 0.6], [0.0, 0.0, 1.0]]   # 16 x 12 extent covering the rect
    paint = dv.ImagePaint(pixels=f(pix), transform=f(t))
    return dv.Scene(children=(dv.Rect(p_min=f([3.0, 3.0]), p_max=f([11.0, 9.0]), fill=paint),))


def _save_report(path):
    with jax.enable_x64(True):
        f = lambda v: jnp.asarray(np.asarray(v, np.float64))
        weights = jnp.asarray(np.random.default_rng(3).normal(size=(GH, GW, 4)))
        loss = lambda s: jnp.sum(dv.render(s, width=GW, height=GH) * weights)
        report = finite_difference_report(_grad_scene(f), loss, step=1e-5, keys=set(CHECKED))
    save_report(report, path)


@pytest.fixture(scope="module")
def gradient_report():
    return report_in_subprocess("test_svg_image", "_save_report")


@pytest.mark.parametrize("key", sorted(CHECKED))
def test_gradient_matches_finite_differences(gradient_report, key):
    g, fd = gradient_report[key]
    mask = parameter_mask(fd)
    assert np.all(np.isfinite(g))
    scale = np.abs(fd[mask]).max()
    assert scale > 1e-3, f"{key}: FD is ~0, the check would be vacuous"
    assert median_relative_error(g, fd, 1e-3 * scale) <= 1e-3, f"{CHECKED[key]}: g {g} fd {fd}"
    if key.endswith("transform"):   # the translation in particular
        np.testing.assert_allclose(g[:2, 2], fd[:2, 2], rtol=1e-3, atol=1e-6 * scale)
    else:                           # one pixel value
        np.testing.assert_allclose(g[1, 2, 0], fd[1, 2, 0], rtol=1e-3, atol=1e-6 * scale)


# ---------------------------------------------------------------------------------------
# href: data URIs, files, refused and broken references
# ---------------------------------------------------------------------------------------


def _pixels(scene):
    return np.asarray(scene.children[0].fill.pixels)


def test_png_and_jpeg_data_uris_decode():
    u8 = _blocks()
    png = load_svg(_svg(f'<image href="{_png_uri(u8)}"/>'))
    np.testing.assert_array_equal(_pixels(png), u8 / np.float32(255.0))
    flat = np.zeros((8, 8, 4), np.uint8)
    flat[...] = [200, 100, 50, 255]
    jpg = load_svg(_svg(f'<image href="{_png_uri(flat, "JPEG", "image/jpeg")}"/>'))
    px = _pixels(jpg)
    assert px.shape == (8, 8, 4) and np.all(px[..., 3] == 1)
    assert np.abs(px[..., :3] - flat[..., :3] / 255.0).max() < 4 / 255.0   # JPEG is lossy


def test_relative_file_path(tmp_path):
    u8 = _blocks()
    (tmp_path / "img").mkdir()
    Image.fromarray(u8, "RGBA").save(tmp_path / "img" / "a.png")
    text = _svg('<image id="pic" href="img/a.png"/>')
    (tmp_path / "doc.svg").write_text(text)
    np.testing.assert_array_equal(_pixels(load_svg(tmp_path / "doc.svg")), u8 / np.float32(255.0))
    with pytest.warns(SVGWarning, match="pic.*needs load_svg to be given"):
        assert load_svg(text).children == ()
    outside = _svg('<image id="up" href="../a.png"/>')
    (tmp_path / "img" / "up.svg").write_text(outside)
    with pytest.warns(SVGWarning, match="up.*leaves the SVG's folder"):
        assert load_svg(tmp_path / "img" / "up.svg").children == ()
    (tmp_path / "gone.svg").write_text(_svg('<image id="gone" href="missing.png"/>'))
    with pytest.warns(SVGWarning, match="gone.*cannot read image file"):
        assert load_svg(tmp_path / "gone.svg").children == ()


@pytest.mark.parametrize("href, match", [
    ("http://example.com/a.png", "net.*never fetched"),
    ("https://example.com/a.png", "net.*never fetched"),
    ("data:image/png;base64,iVBORw0KGgo!!!notbase64", "net.*broken base64"),
    ("data:image/png;base64," + base64.b64encode(b"not an image").decode(), "net.*not a decodable"),
    ("data:image/svg+xml;base64," + base64.b64encode(b"<svg><rect").decode(), "net.*SVG image"),
    ("data:image/png;base64", "net.*broken data URI"),
    ("data:image/gif;base64,R0lGODlh", "net.*not a decodable"),
    ("data:image/tiff;base64,R0lGOD", "net.*not supported"),
])
def test_refused_and_broken_hrefs_warn_and_draw_nothing(href, match):
    with pytest.warns(SVGWarning, match=match):
        scene = load_svg(_svg(f'<rect width="2" height="2"/><image id="net" href="{href}"/>'))
    assert len(scene.children) == 1 and isinstance(scene.children[0].fill, dv.Solid)


def test_oversized_image_warns():
    big = np.zeros((1, 4097, 4), np.uint8)
    with pytest.warns(SVGWarning, match="big.*4097 x 1"):
        assert load_svg(_svg(f'<image id="big" href="{_png_uri(big)}"/>')).children == ()


# ---------------------------------------------------------------------------------------
# save / load
# ---------------------------------------------------------------------------------------


def test_round_trip_is_exact():
    rng = np.random.default_rng(7)
    paint = dv.ImagePaint(pixels=rng.uniform(0, 1, (3, 5, 4)).astype(np.float32),
                          transform=[[1.7, 0.2, 0.3], [-0.1, 2.3, 1.1], [0, 0, 1]])
    rect = dv.Rect(p_min=[0.5, 0.25], p_max=[8.1, 6.7], fill=paint, fill_opacity=0.7, opacity=0.9,
                   transform=[[1, 0, 2.5], [0, 1, 1.5], [0, 0, 1]], id="photo")
    scene = dv.Scene(children=(rect, dv.Circle(center=[3.0, 3.0], radius=2.0, fill=dv.rgba(1, 0, 0))),
                     width=16, height=12)
    text = to_svg_text(scene)
    assert "<image" in text and "data:image/png;base64," in text
    with warnings.catch_warnings():
        warnings.simplefilter("error", SVGWarning)
        back = load_svg(text)
    la, ta = jax.tree_util.tree_flatten(scene)
    lb, tb = jax.tree_util.tree_flatten(back)
    assert ta == tb
    for a, b in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # other viewers (and load_svg without our attributes) get the 8-bit PNG
    plain = re.sub(r' dv:(pixels|image-transform)="[^"]*"', "", text)
    lossy = load_svg(plain).children[0].fill.pixels
    assert np.abs(np.asarray(lossy) - np.asarray(paint.pixels)).max() <= 0.5 / 255 + 1e-6


def test_image_paint_on_a_circle_cannot_be_saved():
    paint = dv.ImagePaint(pixels=np.ones((2, 2, 4), np.float32))
    scene = dv.Scene(children=(dv.Circle(center=[3.0, 3.0], radius=2.0, fill=paint),), width=8, height=8)
    with pytest.raises(ValueError, match="ImagePaint"):
        to_svg_text(scene)


def test_validate_names_the_bad_attribute():
    bad = dv.Scene(children=(dv.Rect(p_min=[0, 0], p_max=[2, 2], fill=dv.ImagePaint(pixels=np.ones((2, 2, 3)))),))
    with pytest.raises(ValueError, match=r"pixels must have shape \(N, N, 4\)"):
        dv.render(bad, width=4, height=4)


def test_use_and_switch_reach_images():
    uri = _png_uri(np.full((2, 2, 4), 255, np.uint8))
    body = (f'<defs><image id="i" width="4" height="4" href="{uri}"/></defs><use href="#i" x="5" y="6"/>'
            f'<switch><image width="2" height="2" href="{uri}"/><rect width="1" height="1"/></switch>')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scene = load_svg(_svg(body))
    used, switched = scene.children
    np.testing.assert_array_equal(used.transform, [[1, 0, 5], [0, 1, 6], [0, 0, 1]])
    assert isinstance(used.children[0].fill, dv.ImagePaint)
    np.testing.assert_array_equal(used.children[0].p_max, [4, 4])
    (image,) = switched.children   # the first valid child only
    assert isinstance(image.fill, dv.ImagePaint) and np.array_equal(image.p_max, [2, 2])


# ---------------------------------------------------------------------------------------
# SVG images, sniffed and other formats
# ---------------------------------------------------------------------------------------

QUADS = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 2">'
         '<rect width="1" height="1" fill="#f00"/><rect x="1" width="1" height="1" fill="#0f0"/>'
         '<rect y="1" width="1" height="1" fill="#00f"/><rect x="1" y="1" width="1" height="1" fill="#ff0"/>'
         '<circle cx="1" cy="1" r="5" fill="none" stroke="#000"/></svg>')   # drawn outside its canvas: clipped


def _svg_uri(text, mime="image/svg+xml"):
    return f"data:{mime};base64," + base64.b64encode(text.encode()).decode("ascii")


def test_svg_image_is_placed_like_a_raster_and_clipped_to_its_canvas():
    """A 2 x 2 quadrant SVG (intrinsic size: its 2 x 2 viewBox) in a 16 x 8 viewport at
    (4, 4): meet scales it to 8 x 8 centred at x = 8 .. 16. Expected pixels by hand: the
    four colours in 4 x 4 blocks, nothing outside (the circle's stroke lies outside its
    canvas and is clipped, as the document's own canvas clips it)."""
    scene = load_svg(_svg(f'<image x="4" y="4" width="16" height="8" href="{_svg_uri(QUADS)}"/>', 24, 16))
    (group,) = scene.children
    assert isinstance(group, dv.Group) and group.clip is not None
    img = np.asarray(dv.render(scene, width=24, height=16))
    expected = np.zeros((16, 24, 4), np.float32)
    for (y0, x0), rgb in {(4, 8): (1, 0, 0), (4, 12): (0, 1, 0), (8, 8): (0, 0, 1), (8, 12): (1, 1, 0)}.items():
        expected[y0:y0 + 4, x0:x0 + 4] = rgb + (1,)
    alpha_err = np.abs(img[..., 3] - expected[..., 3])
    assert alpha_err.max() < 2e-3
    inside = expected[..., 3] > 0
    assert np.abs(img[inside][:, :3] - expected[inside][:, :3]).max() < 2e-3


def test_untyped_data_uris_are_sniffed():
    u8 = _blocks()
    png = _png_uri(u8).replace("data:image/png;", "data:;")
    np.testing.assert_array_equal(_pixels(load_svg(_svg(f'<image href="{png}"/>'))), u8 / np.float32(255.0))
    scene = load_svg(_svg(f'<image width="4" height="4" href="{_svg_uri(QUADS, "")}"/>'))
    assert isinstance(scene.children[0], dv.Group)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_gif_and_webp_decode(fmt):
    u8 = np.zeros((6, 4, 4), np.uint8)
    u8[...] = [0, 255, 0, 255]
    px = _pixels(load_svg(_svg(f'<image href="{_png_uri(u8, fmt, "image/" + fmt.lower())}"/>')))
    assert px.shape == (6, 4, 4)
    np.testing.assert_allclose(px[..., :3], np.broadcast_to([0, 1, 0], (6, 4, 3)), atol=2 / 255)


def test_svg_images_are_secure_and_separate(tmp_path):
    u8 = _blocks()
    Image.fromarray(u8, "RGBA").save(tmp_path / "a.png")
    inner = ('<svg xmlns="http://www.w3.org/2000/svg" width="12" height="8">'
             '<style>rect { fill: blue }</style>'
             f'<image id="file" href="a.png"/><image id="data" href="{_png_uri(u8)}"/></svg>')
    (tmp_path / "inner.svg").write_text(inner)
    outer = _svg('<rect id="own" width="3" height="3" fill="red"/><image id="doc" href="inner.svg"/>')
    (tmp_path / "outer.svg").write_text(outer)
    with pytest.warns(SVGWarning, match="file.*needs load_svg"):   # files are not read inside an SVG image
        scene = load_svg(tmp_path / "outer.svg")
    own, doc = scene.children
    np.testing.assert_allclose(np.asarray(own.fill.color), [1, 0, 0, 1])   # the inner style sheet stays inside
    (inner_group,) = doc.children
    (pic,) = inner_group.children
    assert isinstance(pic.fill, dv.ImagePaint) and pic.id is None           # data URIs are read, ids dropped


def test_svg_images_nest_at_most_four_levels():
    doc = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'
    for _ in range(5):
        doc = f'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><image href="{_svg_uri(doc)}"/></svg>'
    with pytest.warns(SVGWarning, match="nested deeper than 4"):
        load_svg(_svg(f'<image href="{_svg_uri(doc)}"/>'))
