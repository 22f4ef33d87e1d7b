"""glibc's allocator setting: applied by ``import diffvg_jax`` unless the environment opts out,
and it changes what a large allocation costs (freed memory is reused, not mapped afresh)."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

PROBE = """
import diffvg_jax.runtime.cpu_memory as m
import diffvg_jax
print(m._applied)
"""

# Allocate and free a 64 MiB buffer 20 times; count minor page faults (getrusage).
FAULTS = """
import ctypes, resource
import diffvg_jax
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
n = 64 << 20
p = libc.malloc(n); libc.memset(p, 1, n); libc.free(p)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    p = libc.malloc(n); libc.memset(p, 1, n); libc.free(p)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _run(code, opt_out):
    env = dict(os.environ)
    env.pop("DIFFVG_JAX_KEEP_FREED_MEMORY", None)
    if opt_out:
        env["DIFFVG_JAX_KEEP_FREED_MEMORY"] = "0"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env).stdout.split()[-1]


def test_import_applies_it_and_the_environment_opts_out():
    assert _run(PROBE, opt_out=False) == "True"
    assert _run(PROBE, opt_out=True) == "False"


def test_freed_memory_is_reused_without_page_faults():
    kept, fresh = int(_run(FAULTS, opt_out=False)), int(_run(FAULTS, opt_out=True))
    pages = 20 * (64 << 20) // 4096
    assert kept < 0.05 * pages      # reused heap: (almost) no faults
    assert fresh > 0.5 * pages      # mmap'd afresh each time: every page faults
