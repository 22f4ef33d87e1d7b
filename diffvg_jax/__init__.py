"""diffvg_jax: a JAX-native differentiable vector-graphics rasterizer.

Public API (see README.md):
  scene model   Scene, Group, Path, Circle, Ellipse, Rect, Polygon, Polyline,
                Solid, LinearGradient, RadialGradient, Pattern, ImagePaint, rgba, ClipPath, Mask
  rendering     render(scene or encoding, *, width, height, ...); encode, encode_batch,
                Encoding (scenes as data: one compiled program per capacity class);
                pieces_needed, depth_needed (static
                budgets inside your own jit); keep_freed_memory, run_cpu_programs_synchronously
                (faster CPU runs; applied on import),
                enable_compilation_cache (compiled programs kept on disk),
                prefer_fast_compilation (XLA:CPU flags: first calls 2-5x faster)
  SVG           load_svg, save_svg (module diffvg_jax.svg)
  applications  fit (painterly fitting), clipdraw, clip (the CLIP network in flax,
                diffvg_jax.apps.clipdraw.clipnet; geometric clipping is ClipPath)

Layout (imports point down only; see CONTRIBUTING.md):
  scene <- geometry <- paint <- raster (kernels beside) <- svg, apps; runtime beside all
"""
from .scene import (Scene, Group, Path, Circle, Ellipse, Rect, Polygon, Polyline, Solid,
                    LinearGradient, RadialGradient, rgba, replace, identity_transform, ClipPath, Mask,
                    Pattern, ImagePaint)
from .raster import Encoding, depth_needed, encode, encode_batch, pieces_needed, render
from .runtime import (enable_compilation_cache, keep_freed_memory, keep_freed_memory_unless_opted_out,
                      prefer_fast_compilation, run_cpu_programs_synchronously,
                      run_cpu_programs_synchronously_unless_opted_out)

# Faster jitted calls on CPU (diffvg_jax.runtime.cpu_memory): freed memory is kept, and CPU
# programs run on the calling thread, whose heap keeps large temporaries between calls.
# DIFFVG_JAX_KEEP_FREED_MEMORY=0 and DIFFVG_JAX_SYNC_CPU=0 opt out.
keep_freed_memory_unless_opted_out()
run_cpu_programs_synchronously_unless_opted_out()

__version__ = "0.1.0"

_LAZY = {
    "load_svg": ("diffvg_jax.svg", "load_svg"),
    "save_svg": ("diffvg_jax.svg", "save_svg"),
    "svg": ("diffvg_jax.svg", None),
    "fit": ("diffvg_jax.apps.fit", "fit"),
    "clipdraw": ("diffvg_jax.apps.clipdraw", "clipdraw"),
    "clip": ("diffvg_jax.apps.clipdraw.clipnet", None),   # the CLIP network, not clipping
}


def __getattr__(name):
    # Lazy: the SVG, fitting and CLIP layers pull in more imports than rendering needs.
    if name in _LAZY:
        import importlib
        module_name, attr = _LAZY[name]
        module = importlib.import_module(module_name)
        return module if attr is None else getattr(module, attr)
    raise AttributeError(f"module 'diffvg_jax' has no attribute {name!r}")
