"""Image loading, PNG / animation writing and the random initial drawings (no rendering)."""
import numpy as np
import pytest
from PIL import Image

from diffvg_jax import Path
from diffvg_jax.apps.common.artifacts import SnapshotWriter, load_image, save_png, write_animation
from diffvg_jax.apps.common.init_paths import random_blobs, random_strokes


@pytest.fixture(scope="module")
def rgba_bytes():
    rng = np.random.default_rng(0)
    return (rng.random((12, 18, 4)) * 255).astype(np.uint8)


def test_load_rgba_composites_over_background(tmp_path, rgba_bytes):
    Image.fromarray(rgba_bytes, "RGBA").save(tmp_path / "a.png")
    bg = np.array([0.2, 0.5, 1.0], np.float32)
    got = load_image(tmp_path / "a.png", background=bg)
    a = rgba_bytes[..., 3:] / 255.0
    want = rgba_bytes[..., :3] / 255.0 * a + bg * (1 - a)
    assert got.shape == (12, 18, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_load_greyscale_palette_and_16_bit(tmp_path, rgba_bytes):
    grey = rgba_bytes[..., 0]
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "g16.png")  # 16-bit PNG
    for name in ("g.png", "g16.png"):
        got = load_image(tmp_path / name)
        assert got.shape == (12, 18, 3)
        for c in range(3):
            np.testing.assert_allclose(got[..., c], grey / 255.0, atol=1e-6)
    rgb = rgba_bytes[..., :3]
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.gif")
    pal = np.asarray(Image.open(tmp_path / "p.gif").convert("RGB")) / 255.0
    np.testing.assert_allclose(load_image(tmp_path / "p.gif"), pal, atol=1e-6)


def test_load_resizes_longest_side_keeping_aspect(tmp_path):
    img = np.zeros((40, 100, 3), np.uint8)
    img[:, 50:] = 255  # left half black, right half white
    Image.fromarray(img).save(tmp_path / "w.png")
    got = load_image(tmp_path / "w.png", size=20)
    assert got.shape == (8, 20, 3)
    # area averaging keeps the halves pure away from the edge
    assert got[:, :9].max() == 0 and got[:, 11:].min() == 1


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_text("not an image at all"), "not an image"),
    (lambda p: p.mkdir(), "folder"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40), "image"),
])
def test_load_errors_name_the_file(tmp_path, make, message):
    path = tmp_path / "x.png"
    make(path)
    with pytest.raises(ValueError, match=message) as err:
        load_image(path)
    assert "x.png" in str(err.value)


def test_save_png_round_trip_and_background(tmp_path):
    rng = np.random.default_rng(1)
    img = rng.random((6, 7, 4)).astype(np.float32)
    save_png(img, tmp_path / "sub" / "a.png")
    back = np.asarray(Image.open(tmp_path / "sub" / "a.png")) / 255.0
    assert back.shape == (6, 7, 4)
    np.testing.assert_allclose(back, img, atol=0.5 / 255 + 1e-6)
    save_png(img, tmp_path / "b.png", background=(0, 0, 0))
    back = np.asarray(Image.open(tmp_path / "b.png")) / 255.0
    np.testing.assert_allclose(back, img[..., :3] * img[..., 3:], atol=0.5 / 255 + 1e-6)


def test_write_gif_frames_and_mp4_or_clear_error(tmp_path):
    frames = [np.full((5, 6, 3), v, np.float32) for v in (0.0, 0.5, 1.0)]
    write_animation(frames, tmp_path / "a.gif", fps=5)
    with Image.open(tmp_path / "a.gif") as im:
        assert im.n_frames == 3
        im.seek(1)
        assert abs(np.asarray(im.convert("RGB"))[0, 0, 0] - 128) <= 1
    with pytest.raises(ValueError, match="gif or .mp4"):
        write_animation(frames, tmp_path / "a.avi")
    with pytest.raises(ValueError, match="frame 1"):
        write_animation([frames[0], np.zeros((4, 4, 3))], tmp_path / "b.gif")
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="imageio-ffmpeg"):
            write_animation(frames, tmp_path / "a.mp4")
    else:
        write_animation(frames, tmp_path / "a.mp4")
        assert (tmp_path / "a.mp4").stat().st_size > 0


def test_snapshot_writer_png_and_frames(tmp_path):
    writer = SnapshotWriter(tmp_path / "snaps", every=2, svg=False, background=(1, 1, 1), keep_frames=True)
    img = np.zeros((4, 5, 4), np.float32)  # fully transparent: composites to the background
    for step in range(5):
        writer(step, None, img)
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == [
        "step_00000.png", "step_00002.png", "step_00004.png"]
    assert len(writer.frames) == 3 and writer.frames[0].min() == 255


def test_random_strokes_structure_and_determinism():
    s = random_strokes(3, 20, 40, 30, max_segments=3, stroke_width=1.5)
    assert len(s.children) == 20 and (s.width, s.height) == (40, 30)
    counts = set()
    for p in s.children:
        assert isinstance(p, Path) and p.fill is None and p.closed == (False,)
        n = len(p.degrees)
        counts.add(n)
        assert p.points.shape == (3 * n + 1, 2) and set(p.degrees) == {3}
        assert float(p.stroke_width) == 1.5
        c = np.asarray(p.stroke.color)
        assert c.shape == (4,) and c.min() >= 0 and c.max() <= 1
        # consecutive control points are at most radius/2 * canvas apart per axis
        steps = np.abs(np.diff(np.asarray(p.points), axis=0))
        assert np.all(steps <= np.array([0.025 * 40, 0.025 * 30]) + 1e-4)
    assert counts == {1, 2, 3}
    same = random_strokes(3, 20, 40, 30)
    np.testing.assert_array_equal(same.children[7].points, s.children[7].points)
    other = random_strokes(4, 20, 40, 30)
    assert not np.array_equal(other.children[0].points, s.children[0].points)
    uni = random_strokes(3, 5, 40, 30, uniform_segments=2)
    assert all(p.degrees == (3, 3) for p in uni.children)


def test_random_blobs_are_simple_closed_and_positive():
    s = random_blobs(0, 10, 50, 50, num_segments=4, radius=0.1)
    for p in s.children:
        assert p.closed == (True,) and p.points.shape == (12, 2) and p.stroke is None
        pts = np.asarray(p.points, np.float64)
        centre = pts.mean(0)
        ang = np.unwrap(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))
        assert np.all(np.diff(ang) > 0)  # control polygon winds once, counter-clockwise in y-down
        x, y = pts[:, 0], pts[:, 1]
        area = 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        assert 10.0 < area < np.pi * 5 ** 2  # vertices 2.5 to 5 px from the centre


def test_init_argument_errors():
    with pytest.raises(ValueError, match="num_paths"):
        random_strokes(0, -1, 10, 10)
    with pytest.raises(ValueError, match="width"):
        random_blobs(0, 3, 0, 10)
    with pytest.raises(ValueError, match="num_segments"):
        random_blobs(0, 3, 10, 10, num_segments=1)
