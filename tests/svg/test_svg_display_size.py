"""save_svg(display_size=...): the canvas becomes the viewBox, the display size the width /
height. Reference: the same scene drawn through an explicit 2x scaling group."""
import io

import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.svg import load_svg, save_svg


def _scene():
    return dv.Scene(children=(
        dv.Circle(center=[6.0, 5.0], radius=3.5, fill=dv.rgba(0.9, 0.2, 0.1, 1.0)),
        dv.Path(points=np.array([[1.0, 9.0], [5.0, 1.0], [9.0, 9.0], [15.0, 3.0]]), degrees=(3,), closed=False,
                stroke=dv.rgba(0.1, 0.3, 0.8, 1.0), stroke_width=1.5),
    ), background=[1, 1, 1, 1], width=16, height=10)


def test_display_size_scales_the_drawing_through_the_viewbox(tmp_path):
    path = tmp_path / "shown.svg"
    save_svg(_scene(), path, display_size=(32, 20))
    text = path.read_text()
    assert 'width="32"' in text and 'height="20"' in text and 'viewBox="0 0 16 10"' in text
    loaded = load_svg(path)
    assert (loaded.width, loaded.height) == (32, 20)
    scaled = dv.Scene(children=(dv.Group(children=_scene().children, transform=np.diag([2.0, 2.0, 1.0])),),
                      background=[1, 1, 1, 1])
    np.testing.assert_allclose(np.asarray(dv.render(loaded)), np.asarray(dv.render(scaled, width=32, height=20)),
                               atol=2e-3)


@pytest.mark.parametrize("size", [(0, 10), (-3, 4)])
def test_display_size_must_be_positive(size):
    with pytest.raises(ValueError, match="display_size"):
        save_svg(_scene(), io.StringIO(), display_size=size)
