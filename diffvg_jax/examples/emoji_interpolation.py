"""Reproduce the README's emoji interpolation (``assets/emoji_interpolation.png``, ``.gif``
and the two fitted SVGs): two Firefox Emoji (CC BY 4.0, Mozilla; copies in ``assets/``) at
128 px, 64 paths of 4 cubics, 400 Adam steps per drawing, through ``diffvg-interpolate``::

    python -m diffvg_jax.examples.emoji_interpolation                 # writes into assets/
    python -m diffvg_jax.examples.emoji_interpolation --size 64 --out /tmp/s.png --gif /tmp/s.gif

Further options are passed on to ``diffvg-interpolate`` and override the settings here.
"""
import sys
from pathlib import Path

from diffvg_jax.apps.interpolate.cli import main

ROOT = Path(__file__).resolve().parents[2]
EMOJI = ROOT / "assets"
PAIR = ("u1F60E-sunglasses.svg", "u1F621-pouting.svg")
SETTINGS = ["--out", str(ROOT / "assets" / "emoji_interpolation.png"),
            "--gif", str(ROOT / "assets" / "emoji_interpolation.gif"),
            "--size", "128", "--paths", "64", "--steps", "400", "--frames", "7", "--gif-frames", "16",
            "--targets", "--seed", "0"]


def run(argv=None) -> int:
    """Run the command with the README's settings; ``argv`` (a list of str) overrides them."""
    return main([str(EMOJI / PAIR[0]), str(EMOJI / PAIR[1])] + SETTINGS + list(argv or []))


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
