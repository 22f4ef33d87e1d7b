"""MNIST from local files, with an opt-in verified download.

Two on-disk layouts are read:

* the Keras ``mnist.npz``: one NumPy archive with ``x_train`` uint8 (N, 28, 28),
  ``y_train`` uint8 (N,), ``x_test`` uint8 (M, 28, 28), ``y_test`` uint8 (M,);
* the original IDX files (LeCun et al.) in one directory, each optionally gzipped:
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte`` (the ``name.idx3-ubyte`` spelling is accepted too).

:func:`load_mnist` takes either path and returns :class:`MnistData`. Nothing here touches
the network unless :func:`download_mnist` is called explicitly (the CLI does so only with
``--download``): it fetches the Keras archive from Google's public TF datasets bucket (or
the IDX files from the S3 mirror used by torchvision) into a cache directory and refuses
any file whose checksum differs from the published one.

Every problem with a file raises :class:`MnistDataError` (a ``ValueError``) naming the
file and what is wrong with it.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import struct
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import numpy as np

PathLike = Union[str, os.PathLike]

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10

# The Keras archive (keras.datasets.mnist) and its published SHA-256.
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# The IDX files as mirrored for torchvision, with the MD5s torchvision verifies.
IDX_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
IDX_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

# IDX: 2 zero bytes, a type code, the number of dimensions, then big-endian int32 sizes.
_IDX_UBYTE = 0x08
_IDX_STEMS = {
    ("train", "images"): ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    ("train", "labels"): ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    ("test", "images"): ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    ("test", "labels"): ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
_KERAS_KEYS = ("x_train", "y_train", "x_test", "y_test")


class MnistDataError(ValueError):
    """A data file is missing, truncated, corrupt, or holds arrays of the wrong shape."""


@dataclasses.dataclass(frozen=True)
class MnistData:
    """MNIST splits as NumPy arrays.

    Attributes:
      x_train: uint8 (N, 28, 28), 0 = background, 255 = ink.
      y_train: uint8 (N,), digit labels 0..9.
      x_test: uint8 (M, 28, 28).
      y_test: uint8 (M,).
      source: the file or directory the arrays were read from.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str = ""


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


def load_mnist(path: PathLike) -> MnistData:
    """Read MNIST from a Keras ``.npz`` archive or from a directory of IDX files.

    Args:
      path: a ``.npz`` file, or a directory holding the four IDX files (each may end
        in ``.gz``).
    Returns:
      :class:`MnistData` with validated uint8 arrays.
    Raises:
      MnistDataError: the path is missing, or a file is unreadable or malformed.
    """
    p = Path(path)
    if not p.exists():
        raise MnistDataError(f"MNIST data not found: {p} does not exist "
                             "(pass a Keras mnist.npz or a directory of IDX files)")
    if p.is_dir():
        return _load_idx_dir(p)
    return _load_npz(p)


def _load_npz(path: Path) -> MnistData:
    try:
        # allow_pickle=False: an .npz from elsewhere must not be able to run code.
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in _KERAS_KEYS if k not in archive.files]
            if missing:
                raise MnistDataError(f"{path}: not a Keras MNIST archive; missing arrays {missing} "
                                     f"(found {sorted(archive.files)})")
            arrays = {k: archive[k] for k in _KERAS_KEYS}
    except MnistDataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise MnistDataError(f"{path}: cannot read as a NumPy .npz archive ({exc})") from None
    data = MnistData(source=str(path), **arrays)
    _validate(data, where=str(path))
    return data


def _find_idx(directory: Path, split: str, kind: str) -> Path:
    for stem in _IDX_STEMS[(split, kind)]:
        for name in (stem, stem + ".gz"):
            if (directory / name).is_file():
                return directory / name
    wanted = _IDX_STEMS[(split, kind)][0]
    raise MnistDataError(f"{directory}: no {split} {kind} file ({wanted} or {wanted}.gz)")


def _load_idx_dir(directory: Path) -> MnistData:
    arrays = {}
    for split, prefix in (("train", "train"), ("test", "test")):
        arrays[f"x_{prefix}"] = read_idx(_find_idx(directory, split, "images"), ndim=3)
        arrays[f"y_{prefix}"] = read_idx(_find_idx(directory, split, "labels"), ndim=1)
    data = MnistData(source=str(directory), **arrays)
    _validate(data, where=str(directory))
    return data


def read_idx(path: PathLike, ndim: Optional[int] = None) -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzipped when the name ends in ``.gz``).

    Args:
      path: the file.
      ndim: the number of dimensions expected (3 for images, 1 for labels), or None.
    Returns:
      uint8 array of the shape the header declares.
    Raises:
      MnistDataError: bad magic number, unsupported element type, wrong rank, or a body
        shorter or longer than the header declares.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise MnistDataError(f"{path}: cannot read ({exc})") from None
    if len(raw) < 4:
        raise MnistDataError(f"{path}: {len(raw)} bytes is too short for an IDX header")
    zero, dtype_code, rank = struct.unpack(">HBB", raw[:4])
    if zero != 0:
        raise MnistDataError(f"{path}: not an IDX file (magic number starts with {raw[:2].hex()}, expected 0000)")
    if dtype_code != _IDX_UBYTE:
        raise MnistDataError(f"{path}: IDX element type 0x{dtype_code:02x} is not unsigned byte (0x08)")
    if ndim is not None and rank != ndim:
        raise MnistDataError(f"{path}: IDX file has {rank} dimensions, expected {ndim}")
    header = 4 + 4 * rank
    if len(raw) < header:
        raise MnistDataError(f"{path}: truncated IDX header")
    shape = struct.unpack(">" + "i" * rank, raw[4:header])
    if any(s < 0 for s in shape):
        raise MnistDataError(f"{path}: negative dimension in IDX header {shape}")
    count = int(np.prod(shape, dtype=np.int64))
    body = len(raw) - header
    if body != count:
        raise MnistDataError(f"{path}: header declares shape {shape} ({count} bytes) but the file "
                             f"holds {body} bytes of data")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def _validate(data: MnistData, where: str) -> None:
    for split in ("train", "test"):
        x = getattr(data, f"x_{split}")
        y = getattr(data, f"y_{split}")
        if x.ndim != 3 or tuple(x.shape[1:]) != IMAGE_SHAPE:
            raise MnistDataError(f"{where}: x_{split} has shape {x.shape}, expected (N, 28, 28)")
        if x.dtype != np.uint8:
            raise MnistDataError(f"{where}: x_{split} has dtype {x.dtype}, expected uint8")
        if y.ndim != 1:
            raise MnistDataError(f"{where}: y_{split} has shape {y.shape}, expected (N,)")
        if not np.issubdtype(y.dtype, np.integer):
            raise MnistDataError(f"{where}: y_{split} has dtype {y.dtype}, expected integers")
        if len(y) != len(x):
            raise MnistDataError(f"{where}: {len(x)} {split} images but {len(y)} {split} labels")
        if len(x) == 0:
            raise MnistDataError(f"{where}: the {split} split is empty")
        if y.size and (y.min() < 0 or y.max() >= NUM_CLASSES):
            raise MnistDataError(f"{where}: y_{split} holds labels outside 0..9 "
                                 f"(min {y.min()}, max {y.max()})")


# ---------------------------------------------------------------------------------------
# Download (opt-in; never called by tests or by default)
# ---------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """``$DIFFVG_JAX_CACHE/mnist`` if set, else ``$XDG_CACHE_HOME/diffvg_jax/mnist``,
    else ``~/.cache/diffvg_jax/mnist``."""
    if os.environ.get("DIFFVG_JAX_CACHE"):
        return Path(os.environ["DIFFVG_JAX_CACHE"]) / "mnist"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "diffvg_jax" / "mnist"


def file_digest(path: PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_verified(url: str, dest: PathLike, digest: str, algorithm: str = "sha256",
                   timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` unless a file with the right digest is already there.

    The body goes to a temporary file beside ``dest`` and is renamed into place only
    after its digest matches, so an interrupted or tampered download never leaves a file
    that a later call would trust.

    Raises:
      MnistDataError: the download fails, or its digest differs from ``digest``.
    """
    dest = Path(dest)
    if dest.is_file() and file_digest(dest, algorithm) == digest:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        h = hashlib.new(algorithm)
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for chunk in iter(lambda: response.read(1 << 20), b""):
                        h.update(chunk)
                        out.write(chunk)
            except OSError as exc:  # URLError and socket errors are OSErrors
                raise MnistDataError(f"download of {url} failed: {exc}") from None
        got = h.hexdigest()
        if got != digest:
            raise MnistDataError(f"download of {url}: {algorithm} {got} does not match the "
                                 f"published {digest}; the file was discarded")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return dest


def download_mnist(cache_dir: Optional[PathLike] = None, source: str = "keras") -> Path:
    """Fetch MNIST into ``cache_dir`` (default :func:`default_cache_dir`) and verify it.

    Args:
      cache_dir: where to keep the files; created if needed. Files already present with
        the right checksum are not fetched again.
      source: ``"keras"`` (one ``mnist.npz``, SHA-256 checked) or ``"idx"`` (the four
        gzipped IDX files, MD5 checked as torchvision does).
    Returns:
      The path to pass to :func:`load_mnist` (the ``.npz`` file or the IDX directory).
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if source == "keras":
        return fetch_verified(KERAS_URL, cache / "mnist.npz", KERAS_SHA256, "sha256")
    if source == "idx":
        for name, md5 in IDX_MD5.items():
            fetch_verified(IDX_MIRROR + name, cache / name, md5, "md5")
        return cache
    raise ValueError(f"download_mnist: source must be 'keras' or 'idx', got {source!r}")


# ---------------------------------------------------------------------------------------
# Helpers for tests and notebooks
# ---------------------------------------------------------------------------------------


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (..., 28, 28) -> float32 in [0, 1]."""
    return np.asarray(images, dtype=np.float32) / 255.0


def split_counts(data: MnistData) -> Dict[str, Tuple[int, ...]]:
    """Shapes of the four arrays, for logging."""
    return {k: tuple(getattr(data, k).shape) for k in _KERAS_KEYS}
