"""Where the shared resvg conformance suite is, and its run.py loaded as a module (for its
``compare`` and image helpers). Tests that need it skip when it is absent."""
import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("DIFFVG_CONFORMANCE_DIR") or next(
    (p for p in (os.path.join(HERE, "..", "..", "..", "shared", "conformance"), "/work/shared/conformance")
     if os.path.exists(os.path.join(p, "run.py"))), None)

# The fonts the text cases were drawn with (run.py exports them as CONFORMANCE_FONTS_DIR);
# text tests pass this folder to load_svg / render_svg as font_dirs.
FONTS = os.environ.get("CONFORMANCE_FONTS_DIR") or (os.path.join(ROOT, "fonts") if ROOT else None)


def fonts_dir():
    """The conformance fonts folder; skips the calling test if it is not available."""
    if FONTS is None or not os.path.isdir(FONTS):
        pytest.skip("../shared/conformance/fonts is not available (set DIFFVG_CONFORMANCE_DIR)")
    return FONTS


def runner():
    """The suite's run.py as a module; skips the calling test if the suite is not available."""
    if ROOT is None:
        pytest.skip("../shared/conformance is not available (set DIFFVG_CONFORMANCE_DIR)")
    spec = importlib.util.spec_from_file_location("conformance_run", os.path.join(ROOT, "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
