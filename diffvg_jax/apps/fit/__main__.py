"""``python -m diffvg_jax.apps.fit``: the ``diffvg-fit`` command."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
