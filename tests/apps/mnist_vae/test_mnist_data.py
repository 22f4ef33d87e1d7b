"""MNIST loader: both file layouts, gzip, corrupt files, and the checksum-verified fetch.

The IDX files are written here with ``struct`` straight from the format description
(big-endian header, then raw bytes), independently of the loader's reader.
"""
import gzip
import hashlib
import struct

import numpy as np
import pytest

from diffvg_jax.apps.mnist_vae import data as md


def _synthetic(n_train=12, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
            "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, n_test).astype(np.uint8)}


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(np.uint8).tobytes(order="C")


_IDX_NAMES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
              "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def _write_idx_dir(directory, arrays, gz):
    directory.mkdir(parents=True, exist_ok=True)
    for key, name in _IDX_NAMES.items():
        raw = _idx_bytes(arrays[key])
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (directory / name).write_bytes(raw)
    return directory


def _assert_same(data, arrays):
    for key in _IDX_NAMES:
        got = getattr(data, key)
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8


def test_keras_npz_round_trip(tmp_path):
    arrays = _synthetic()
    np.savez_compressed(tmp_path / "mnist.npz", **arrays)
    _assert_same(md.load_mnist(tmp_path / "mnist.npz"), arrays)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_directory_round_trip(tmp_path, gz):
    arrays = _synthetic(seed=1)
    _assert_same(md.load_mnist(_write_idx_dir(tmp_path / "idx", arrays, gz)), arrays)


def test_idx_header_is_big_endian(tmp_path):
    # 256 images of 28x28 would read as 65536 if the size were taken little-endian.
    arr = np.arange(3 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(3, 28, 28)
    (tmp_path / "f").write_bytes(_idx_bytes(arr))
    out = md.read_idx(tmp_path / "f", ndim=3)
    assert out.shape == (3, 28, 28)
    assert out[1, 0, 0] == (28 * 28) % 256


def test_missing_path(tmp_path):
    with pytest.raises(md.MnistDataError, match="does not exist"):
        md.load_mnist(tmp_path / "nope.npz")


def test_missing_idx_file_is_named(tmp_path):
    d = _write_idx_dir(tmp_path / "idx", _synthetic(), gz=False)
    (d / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(md.MnistDataError, match="t10k-labels-idx1-ubyte"):
        md.load_mnist(d)


@pytest.mark.parametrize("mutate, message", [
    (lambda raw: raw[:-5], "holds"),                       # truncated body
    (lambda raw: raw + b"\0", "holds"),                    # trailing garbage
    (lambda raw: b"\x08\x03" + raw[2:], "magic"),          # wrong magic
    (lambda raw: raw[:2] + b"\x0d" + raw[3:], "type"),     # float element type
    (lambda raw: raw[:3] + b"\x02" + raw[4:], "dimensions"),  # rank 2, not 3
    (lambda raw: raw[:2], "too short"),
])
def test_corrupt_idx(tmp_path, mutate, message):
    arrays = _synthetic()
    d = _write_idx_dir(tmp_path / "idx", arrays, gz=False)
    f = d / "train-images-idx3-ubyte"
    f.write_bytes(mutate(f.read_bytes()))
    with pytest.raises(md.MnistDataError, match=message) as info:
        md.load_mnist(d)
    assert "train-images-idx3-ubyte" in str(info.value)


def test_corrupt_gzip(tmp_path):
    d = _write_idx_dir(tmp_path / "idx", _synthetic(), gz=True)
    f = d / "t10k-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:40])  # cut the gzip stream
    with pytest.raises(md.MnistDataError, match="t10k-images"):
        md.load_mnist(d)


def test_label_count_mismatch(tmp_path):
    arrays = _synthetic()
    arrays["y_test"] = arrays["y_test"][:-1]
    d = _write_idx_dir(tmp_path / "idx", arrays, gz=False)
    with pytest.raises(md.MnistDataError, match="5 test images but 4 test labels"):
        md.load_mnist(d)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("y_train"), "missing arrays"),
    (lambda a: a.update(x_train=a["x_train"][:, :27]), r"x_train has shape \(12, 27, 28\)"),
    (lambda a: a.update(x_test=a["x_test"].astype(np.float32)), "dtype float32"),
    (lambda a: a.update(y_train=np.full(12, 10, np.uint8)), "outside 0..9"),
])
def test_bad_npz_contents(tmp_path, change, message):
    arrays = _synthetic()
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(md.MnistDataError, match=message):
        md.load_mnist(tmp_path / "bad.npz")


def test_not_an_npz(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip archive")
    with pytest.raises(md.MnistDataError, match="junk.npz"):
        md.load_mnist(tmp_path / "junk.npz")


def test_pickled_npz_refused(tmp_path):
    arrays = _synthetic()
    arrays["x_train"] = np.array([object()] * 3, dtype=object)
    np.savez(tmp_path / "pickled.npz", **arrays)
    with pytest.raises(md.MnistDataError, match="pickled.npz"):
        md.load_mnist(tmp_path / "pickled.npz")


# The download path is exercised with file:// URLs: same code, no network.

def test_fetch_verified_accepts_matching_digest(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"digits" * 1000)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    dest = md.fetch_verified(src.as_uri(), tmp_path / "cache" / "f.bin", digest)
    assert dest.read_bytes() == src.read_bytes()
    src.unlink()  # a second call must trust the cached copy and not fetch again
    assert md.fetch_verified("file:///nonexistent", dest, digest) == dest


def test_fetch_verified_rejects_wrong_digest(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"tampered")
    cache = tmp_path / "cache"
    with pytest.raises(md.MnistDataError, match="does not match"):
        md.fetch_verified(src.as_uri(), cache / "f.bin", "0" * 64)
    assert list(cache.iterdir()) == []  # nothing half-trusted left behind


def test_fetch_verified_reports_failed_download(tmp_path):
    with pytest.raises(md.MnistDataError, match="failed"):
        md.fetch_verified((tmp_path / "absent").as_uri(), tmp_path / "f.bin", "0" * 64)


def test_published_checksums_are_well_formed():
    assert len(md.KERAS_SHA256) == 64 and int(md.KERAS_SHA256, 16) >= 0
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in md.IDX_MD5.values())
    assert set(md.IDX_MD5) == {n + ".gz" for n in _IDX_NAMES.values()}
