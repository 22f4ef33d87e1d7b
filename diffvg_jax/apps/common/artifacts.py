"""Reading target images and writing results: PNGs, animations and periodic snapshots.

Images in memory are float32 arrays in [0, 1]: ``(H, W, 3)`` RGB or ``(H, W, 4)`` straight
(un-premultiplied) RGBA, as :func:`diffvg_jax.render` returns them.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
from PIL import Image, UnidentifiedImageError

from diffvg_jax.raster import render
from diffvg_jax.svg import save_svg

__all__ = ["save_png", "load_image", "write_animation", "SnapshotWriter", "composite",
           "to_uint8", "existing_file", "MAX_INPUT_PIXELS"]

# Inputs above this many pixels are refused before decoding (PIL's decompression-bomb
# guard, made an ordinary error): 16k x 16k is far beyond anything worth fitting.
MAX_INPUT_PIXELS = 16384 * 16384


def composite(img, background) -> np.ndarray:
    """Straight-alpha RGBA ``(H, W, 4)`` over an RGB(A) background colour -> float32 (H, W, 3).

    RGB input is returned unchanged (as float32).
    """
    img = np.asarray(img, dtype=np.float32)
    if img.ndim != 3 or img.shape[-1] not in (3, 4):
        raise ValueError(f"image must have shape (H, W, 3) or (H, W, 4), got {img.shape}")
    if img.shape[-1] == 3:
        return img
    bg = np.asarray(background, dtype=np.float32).reshape(-1)[:3]
    alpha = img[..., 3:4]
    return img[..., :3] * alpha + bg * (1.0 - alpha)


def to_uint8(img) -> np.ndarray:
    """float image in [0, 1] -> uint8 (values clipped, rounded to nearest)."""
    img = np.nan_to_num(np.asarray(img, dtype=np.float32), nan=0.0)
    return np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)


def save_png(img, path, *, background=None) -> None:
    """Write a float image as an 8-bit PNG.

    Args:
      img: float (H, W, 3) RGB or (H, W, 4) straight-alpha RGBA in [0, 1] (NumPy or JAX).
      path: output file; parent folders are created.
      background: optional RGB(A) colour in [0, 1]; if given, RGBA input is composited over
        it and an RGB PNG is written; otherwise RGBA input keeps its alpha channel.
    """
    img = np.asarray(img, dtype=np.float32)
    if img.ndim != 3 or img.shape[-1] not in (3, 4):
        raise ValueError(f"save_png: image must have shape (H, W, 3) or (H, W, 4), got {img.shape}")
    if background is not None:
        img = composite(img, background)
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8(img), mode="RGBA" if img.shape[-1] == 4 else "RGB").save(path, format="PNG")


def _resize_longest(im, size: int):
    w, h = im.size
    scale = size / max(w, h)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    if new == (w, h):
        return im
    return im.resize(new, Image.Resampling.LANCZOS if scale > 1 else Image.Resampling.BOX)


def load_image(path, *, size: Optional[int] = None, background=(1.0, 1.0, 1.0)) -> np.ndarray:
    """Read an image file as float32 RGB.

    Greyscale expands to three channels; palette images are converted; an alpha channel is
    composited over ``background`` (RGB in [0, 1]); 16-bit images keep their precision.

    Args:
      path: image file (anything Pillow reads: PNG, JPEG, GIF, BMP, TIFF, WebP ...).
      size: if given, resize so that the longest side is ``size`` pixels, keeping the aspect
        ratio (area averaging when shrinking).
      background: RGB colour that transparent pixels are composited over.

    Returns:
      float32 (H, W, 3) in [0, 1] (straight colour, no alpha).

    Raises:
      ValueError: the file is missing, is a folder, is not an image Pillow can decode, or
        has more than ``MAX_INPUT_PIXELS`` pixels; or ``size`` is not a positive integer.
    """
    if size is not None and (int(size) != size or size < 1):
        raise ValueError(f"size must be a positive integer, got {size!r}")
    path = existing_file(path, "an image file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_INPUT_PIXELS:
                    raise ValueError(f"{path}: image is {w}x{h} pixels, more than the "
                                     f"{MAX_INPUT_PIXELS} this tool accepts")
                im.load()
                im = _normalise_mode(im)
    except UnidentifiedImageError:
        raise ValueError(f"{path}: not an image file Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(f"{path}: image has too many pixels (decompression-bomb guard)") from None
    except (OSError, SyntaxError) as err:  # truncated / corrupt files
        raise ValueError(f"{path}: cannot decode image ({err})") from None
    if size is not None:
        im = _resize_longest(im, int(size))
    arr = np.asarray(im, dtype=np.float32)
    if im.mode in ("I", "F"):  # 16-bit / float greyscale, see _normalise_mode
        arr = arr[..., None]
        arr = np.concatenate([arr, arr, arr], -1)
    elif im.mode == "RGBA":
        arr = arr / 255.0
        arr = composite(arr, background)
    else:
        arr = arr / 255.0
    return np.clip(arr, 0.0, 1.0).astype(np.float32)


def existing_file(path, kind: str) -> Path:
    """``path`` as a Path, or ValueError '<path>: no such file' / '<path>: is a folder, not
    <kind>' (kind e.g. 'an image file')."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not {kind}")
    return path


def _normalise_mode(im):
    """Pillow image -> 'RGB', 'RGBA' or, for high-bit-depth greyscale, 'F' scaled to [0, 1]."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float32)
        top = 65535.0 if im.mode.startswith("I;16") or arr.max() > 255 else 255.0
        return Image.fromarray(arr / top, mode="F")
    if im.mode == "F":
        return im
    has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info)
    return im.convert("RGBA" if has_alpha else "RGB")


def write_animation(frames: Iterable, path, *, fps: float = 10, background=(1.0, 1.0, 1.0)) -> None:
    """Write frames as an animated GIF (Pillow) or an MP4 (imageio with imageio-ffmpeg).

    Args:
      frames: sequence of float (H, W, 3|4) images in [0, 1] (RGBA is composited over
        ``background``) or uint8 (H, W, 3) arrays, all the same size.
      path: output file; the suffix picks the format: ``.gif`` or ``.mp4``.
      fps: frames per second (> 0).

    Raises:
      ValueError: no frames, frames of different sizes, an unknown suffix, or ``.mp4``
        requested without imageio-ffmpeg installed (the message says what to install).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"{path}: animation format must be .gif or .mp4, got {suffix or 'no suffix'!r}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    images = []
    for i, f in enumerate(frames):
        f = np.asarray(f)
        if f.dtype != np.uint8:
            f = to_uint8(composite(f, background))
        elif f.ndim != 3 or f.shape[-1] != 3:
            raise ValueError(f"frame {i}: uint8 frames must have shape (H, W, 3), got {f.shape}")
        if images and f.shape != images[0].shape:
            raise ValueError(f"frame {i} has shape {f.shape}, frame 0 has {images[0].shape}")
        images.append(f)
    if not images:
        raise ValueError(f"{path}: no frames to write")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        pil = [Image.fromarray(f, mode="RGB") for f in images]
        pil[0].save(path, format="GIF", save_all=True, append_images=pil[1:],
                    duration=max(1, round(1000 / fps)), loop=0, optimize=False)
        return
    try:  # an optional extra (the 'video' dependencies): imported only when MP4 is asked for
        import imageio_ffmpeg  # noqa: F401  (imageio's MP4 writer needs its bundled ffmpeg)
        import imageio.v2 as imageio
    except ImportError:
        raise ValueError(f"{path}: writing MP4 needs the imageio-ffmpeg package "
                         "(pip install imageio imageio-ffmpeg); or write a .gif instead") from None
    # H.264 wants even sizes: pad by repeating the edge rather than resampling.
    h, w = images[0].shape[:2]
    pad = ((0, h % 2), (0, w % 2), (0, 0))
    with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=1,
                            quality=8, pixelformat="yuv420p") as writer:
        for f in images:
            writer.append_data(np.pad(f, pad, mode="edge"))


class SnapshotWriter:
    """Writes the drawing every ``every`` steps as ``<prefix>_<step>.svg`` and ``.png``.

    Use it as the ``callback`` of :func:`diffvg_jax.fit` (or call it from your own loop)::

        snaps = SnapshotWriter("runs/a", every=50, background=(1, 1, 1), keep_frames=True)
        for step in range(n):
            ...
            snaps(step, scene, image)       # writes only when step % every == 0
        write_animation(snaps.frames, "runs/a/progress.gif")

    Args:
      folder: output folder (created), or None to write no files (frames only).
      every: write when ``step % every == 0`` (and whenever :meth:`write` is called).
      background: RGB colour the PNGs are composited over (None keeps alpha).
      width, height: canvas size for rendering when no image is passed (default: the
        scene's own ``width`` / ``height``).
      svg, png: which files to write.
      keep_frames: also keep each PNG image in ``self.frames`` (uint8 (H, W, 3)), e.g. for
        :func:`write_animation`.
      prefix: file-name prefix.
    """

    def __init__(self, folder, *, every: int = 50, background=None, width: Optional[int] = None,
                 height: Optional[int] = None, svg: bool = True, png: bool = True,
                 keep_frames: bool = False, prefix: str = "step"):
        if int(every) != every or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        self.folder = Path(folder) if folder is not None else None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.every = int(every)
        self.background = background
        self.width, self.height = width, height
        self.svg, self.png = svg, png
        self.keep_frames = keep_frames
        self.prefix = prefix
        self.frames: list = []
        self.written: list = []

    def due(self, step: int) -> bool:
        """Whether :meth:`__call__` writes at ``step``."""
        return step % self.every == 0

    def __call__(self, step: int, scene, image=None) -> list:
        if not self.due(step):
            return []
        return self.write(step, scene, image)

    def write(self, step: int, scene, image=None) -> list:
        """Write the snapshot for ``step`` now.

        Args:
          step: the step number (used in the file names).
          scene: the :class:`diffvg_jax.Scene` to save as SVG.
          image: its render, float (H, W, 3|4); rendered here when None.
        Returns: the paths written.
        """
        if image is None and (self.png or self.keep_frames):
            image = render(scene, width=self.width or scene.width, height=self.height or scene.height)
        out = []
        if self.folder is not None:
            stem = self.folder / f"{self.prefix}_{step:05d}"
            if self.svg:
                save_svg(_with_size(scene, self.width, self.height), stem.with_suffix(".svg"))
                out.append(stem.with_suffix(".svg"))
            if self.png:
                save_png(image, stem.with_suffix(".png"), background=self.background)
                out.append(stem.with_suffix(".png"))
        if self.keep_frames:
            bg = self.background if self.background is not None else (1.0, 1.0, 1.0)
            self.frames.append(to_uint8(composite(image, bg)))
        self.written.extend(out)
        return out


def _with_size(scene, width, height):
    if width is None or (scene.width == width and scene.height == height):
        return scene
    return scene.replace(width=int(width), height=int(height))
