"""Kept so that ``python -m diffvg_jax.fit_cli`` still runs ``diffvg-fit``; the command lives
in :mod:`diffvg_jax.apps.fit.cli` (``python -m diffvg_jax.apps.fit``)."""
from diffvg_jax.apps.fit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
