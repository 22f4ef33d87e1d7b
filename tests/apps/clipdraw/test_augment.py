"""CLIPDraw augmentations: exact resampling cases, PIL as an independent reference,
linearity / adjoint checks of the gradient, and the random parameters' ranges."""
import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from diffvg_jax.apps.clipdraw import augment as A

RNG = np.random.default_rng(0)
IMG = RNG.random((20, 24, 3)).astype(np.float32)


def test_identity_and_integer_shift_are_exact():
    np.testing.assert_allclose(np.asarray(A.warp(IMG, np.eye(3), 20, 24)), IMG, atol=1e-6)
    shift = np.array([[1, 0, 3], [0, 1, -2], [0, 0, 1]], np.float32)  # out (x, y) reads in (x+3, y-2)
    out = np.asarray(A.warp(IMG, shift, 20, 24, fill=7.0))
    np.testing.assert_allclose(out[2:, :21], IMG[:18, 3:], atol=1e-6)
    assert (out[:2] == 7).all() and (out[:, 21:] == 7).all()


def test_homography_maps_the_four_points():
    src = np.array([[0, 0], [10, 1], [11, 9], [-1, 8]], np.float32)
    dst = np.array([[2, 3], [20, 0], [18, 25], [1, 19]], np.float32)
    h = np.asarray(A.homography_from_points(src, dst))
    p = np.c_[src, np.ones(4)] @ h.T
    np.testing.assert_allclose(p[:, :2] / p[:, 2:], dst, atol=1e-4)


def test_perspective_warp_matches_pil_bilinear():
    """PIL's PERSPECTIVE transform uses the same pixel-centre convention (output centres
    (x + 0.5, y + 0.5) mapped to input coordinates, bilinear taps at -0.5); its edges
    differ (clamped taps), so compare pixels whose 2x2 taps are all inside."""
    m = np.asarray(A.random_perspective_matrix(jax.random.key(3), 24, 20, 0.5), np.float64)
    m = m / m[2, 2]
    ours = np.asarray(A.warp(IMG, m, 20, 24, fill=0.0))
    coeffs = tuple(m.reshape(-1)[:8])
    ys, xs = np.mgrid[0:20, 0:24] + 0.5
    q = np.stack([xs, ys, np.ones_like(xs)], -1) @ m.T
    sx, sy = q[..., 0] / q[..., 2] - 0.5, q[..., 1] / q[..., 2] - 0.5
    interior = (sx >= 0) & (sx <= 22.99) & (sy >= 0) & (sy <= 18.99)
    assert interior.sum() > 150
    for c in range(3):
        pil = Image.fromarray(IMG[..., c], mode="F").transform((24, 20), Image.Transform.PERSPECTIVE, coeffs,
                                                                 Image.Resampling.BILINEAR)
        np.testing.assert_allclose(ours[..., c][interior], np.asarray(pil)[interior], atol=1e-4)


def test_warp_is_linear_and_its_gradient_is_the_adjoint():
    m = A.random_perspective_matrix(jax.random.key(1), 24, 20, 0.5) @ A.crop_matrix(jnp.array([2., 1., 18., 15.]), 16, 16)
    d = RNG.standard_normal(IMG.shape).astype(np.float32)
    w = RNG.standard_normal((16, 16, 3)).astype(np.float32)
    warp = lambda x, fill: A.warp(x, m, 16, 16, fill)
    # affine in the image: W(x + d) - W(x) = W0(d), W0 with zero fill
    np.testing.assert_allclose(np.asarray(warp(IMG + d, 1.0) - warp(IMG, 1.0)), np.asarray(warp(d, 0.0)), atol=1e-5)
    g = jax.grad(lambda x: jnp.sum(w * warp(x, 1.0)))(jnp.asarray(IMG))
    np.testing.assert_allclose(float(jnp.sum(g * d)), float(jnp.sum(w * warp(d, 0.0))), rtol=1e-4)
    assert np.isfinite(np.asarray(g)).all()


def test_perspective_corners_move_inward_within_distortion():
    for k in range(20):
        m = np.asarray(A.random_perspective_matrix(jax.random.key(k), 100, 60, 0.5), np.float64)
        moved = np.linalg.solve(m, np.array([[0, 100, 100, 0], [0, 0, 60, 60], [1, 1, 1, 1]], float))
        moved = (moved[:2] / moved[2]).T
        corners = np.array([[0, 0], [100, 0], [100, 60], [0, 60]], float)
        off = np.abs(moved - corners)
        assert (off[:, 0] <= 25 + 1e-3).all() and (off[:, 1] <= 15 + 1e-3).all()
        assert ((moved >= -1e-3) & (moved <= [100 + 1e-3, 60 + 1e-3])).all()


def test_crop_boxes_follow_scale_and_ratio():
    boxes = np.asarray(jax.vmap(lambda k: A.random_crop_box(k, 224, 224))(jax.random.split(jax.random.key(0), 500)))
    x0, y0, w, h = boxes.T
    area = w * h / 224 ** 2
    assert area.min() >= 0.7 * 0.92 and area.max() <= 0.9 + 1e-5  # clamped sides only shrink
    unclamped = (w < 224) & (h < 224)
    assert unclamped.mean() > 0.6
    np.testing.assert_array_less(0.7 - 1e-5, area[unclamped])
    ratio = w[unclamped] / h[unclamped]
    assert ratio.min() >= 0.75 - 1e-4 and ratio.max() <= 4 / 3 + 1e-4
    assert (x0 >= 0).all() and (y0 >= 0).all() and (x0 + w <= 224 + 1e-3).all() and (y0 + h <= 224 + 1e-3).all()


def test_clipdraw_augment_shapes_fill_and_gradient():
    img = jnp.asarray(IMG)
    out = A.clipdraw_augment(jax.random.key(0), img, num_copies=2, size=16)
    assert out.shape == (2, 16, 16, 3)
    # a black image comes out black inside and white (fill) where the warp uncovered the border
    black = np.asarray(A.clipdraw_augment(jax.random.key(0), jnp.zeros((20, 24, 3)), num_copies=2, size=16))
    assert black.min() >= 0 and black.max() <= 1 and (black == 0).any() and (black == 1).any()
    crop = np.asarray(A.random_resized_crop(jax.random.key(2), img, 16))
    assert crop.shape == (16, 16, 3) and IMG.min() <= crop.min() and crop.max() <= IMG.max()
    g = jax.grad(lambda x: A.clipdraw_augment(jax.random.key(0), x, num_copies=2, size=16).mean())(img)
    assert np.isfinite(np.asarray(g)).all() and np.asarray(g).sum() > 0
