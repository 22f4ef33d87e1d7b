"""enable_compilation_cache: compiled programs land on disk and a later process reuses them."""
import os
import subprocess
import sys

from diffvg_jax.runtime.compile_cache import default_cache_dir

PROGRAM = """
import sys, jax, jax.numpy as jnp
from diffvg_jax import enable_compilation_cache
hits = []
jax.monitoring.register_event_listener(lambda name, **kw: hits.append(name) if "cache_hits" in name else None)
used = enable_compilation_cache(sys.argv[1], min_compile_seconds=0.0)
f = jax.jit(lambda x: jnp.sin(x) * 3.0 + jnp.cumsum(x))
f(jnp.arange(7.0)).block_until_ready()
print("CACHE", used, len(hits))
"""


def _run(folder, **env):
    full = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", PROGRAM, str(folder)], env=full, check=True,
                         capture_output=True, text=True).stdout
    _, used, hits = out.split()
    return used, int(hits)


def test_programs_are_written_and_reused(tmp_path):
    folder = tmp_path / "xla"
    assert _run(folder) == (str(folder), 0)
    assert os.listdir(folder), "no compiled program was stored"
    used, hits = _run(folder)
    assert used == str(folder) and hits >= 1  # the second process loads what the first stored


def test_environment_variable_turns_it_off(tmp_path):
    folder = tmp_path / "off"
    assert _run(folder, DIFFVG_JAX_COMPILATION_CACHE="0") == ("None", 0)
    assert not folder.exists()


def test_default_folder_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "diffvg_jax" / "xla"
