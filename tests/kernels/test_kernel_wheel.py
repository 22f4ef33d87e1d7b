"""Packaging: the kernels, installed as ``diffvg_jax.kernels``, are in the built wheel."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest


@pytest.mark.slow
def test_built_wheel_contains_kernels(tmp_path):
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(root)],
                   check=True)
    (wheel,) = tmp_path.glob("diffvg_jax-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "diffvg_jax/kernels/coverage.py" in names
    assert "diffvg_jax/kernels/__init__.py" in names
    assert "diffvg_jax/raster/renderer.py" in names
