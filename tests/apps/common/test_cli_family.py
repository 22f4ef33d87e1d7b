"""One command-line family: every ``diffvg-*`` command of pyproject.toml's [project.scripts]
has the program name users type (also under ``python -m``), shows every option's default
in --help, and reports a bad option value in one line with exit status 2; the drawing and
training commands share --out, --seed, --snapshots, --every and --quiet (defined once, in
diffvg_jax/apps/common/options.py)."""
import contextlib
import importlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from diffvg_jax.apps.common.options import SHARED_OPTIONS

ROOT = Path(__file__).resolve().parents[3]
# The commands that must have all of SHARED_OPTIONS (a new drawing command joins this list).
SHARED = {"diffvg-fit", "diffvg-clipdraw", "diffvg-mnist-vae"}
# Arguments each command needs besides the option under test (its required ones).
REQUIRED = {"diffvg-fit": ["in.png"], "diffvg-clipdraw": ["a cat", "--random-clip", "tiny"],
            "diffvg-mnist-vae": ["--steps", "1"]}


def scripts():
    """[project.scripts] of pyproject.toml: command -> 'module:function'."""
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r'^([\w-]+)\s*=\s*"([\w.:]+)"', section, re.M))


COMMANDS = sorted(scripts())


def entry(command):
    module, func = scripts()[command].split(":")
    mod = importlib.import_module(module)
    return mod, getattr(mod, func)


def call(command, argv):
    _, main = entry(command)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_the_three_commands_are_installed():
    assert SHARED <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_the_program_and_every_default(command):
    code, out, _ = call(command, ["--help"])
    assert code == 0
    assert out.startswith(f"usage: {command} ")
    parser = entry(command)[0].build_parser()
    assert parser.prog == command
    for action in parser._actions:
        if not action.option_strings or action.help == "==SUPPRESS==" or "--help" in action.option_strings:
            continue
        text = parser._get_formatter()._get_help_string(action) if action.help else ""
        assert "default" in text.lower() or "(required)" in text, f"{command} {action.option_strings}: {text!r}"


@pytest.mark.parametrize("command", sorted(SHARED))
def test_help_lists_the_shared_options_with_defaults(command):
    _, out, _ = call(command, ["--help"])
    entries = re.split(r"\n(?=  -)", out)                  # one help entry per option
    for option in SHARED_OPTIONS:
        mine = [e for e in entries if re.match(rf"  {option}\b", e)]
        assert len(mine) == 1, (command, option)
        assert re.search(r"\((default: [^)]*|required)\)", " ".join(mine[0].split())), (command, mine[0])
    assert "--no-progress" not in out and "--eval-every" not in out   # hidden deprecated spellings


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_option_value_is_one_line_with_status_2(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(command, REQUIRED.get(command, []) + ["--out", "x", "--seed", "seven"])
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"{command}: error: ") and "--seed" in err, err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("command", sorted(SHARED))
def test_bad_every_is_one_line_with_status_2(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = call(command, REQUIRED[command] + ["--out", "x", "--every", "-1"])
    assert code == 2 and err.count("\n") == 1 and "--every must be at least" in err, err


@pytest.mark.parametrize("command", sorted(SHARED))
def test_each_shared_option_parses(command):
    parser = entry(command)[0].build_parser()
    args = parser.parse_args(REQUIRED[command] + ["--out", "o", "--seed", "7", "--snapshots", "snaps",
                                                  "--every", "3", "--quiet"])
    assert (args.out, args.seed, args.snapshots, args.every, args.quiet) == ("o", 7, "snaps", 3, True)
    args = parser.parse_args(REQUIRED[command] + ["--out", "o"])
    assert args.snapshots is None and args.quiet is False and args.every >= 1


def test_mnist_vae_keeps_its_old_spellings():
    parser = entry("diffvg-mnist-vae")[0].build_parser()
    args = parser.parse_args(["--steps", "1", "--out", "o", "--no-progress", "--eval-every", "0"])
    assert args.quiet is True and args.every == 0


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(SHARED))
def test_python_dash_m_has_the_same_program_name(command):
    package = scripts()[command].split(":")[0].rsplit(".", 1)[0]
    run = subprocess.run([sys.executable, "-m", package, "--seed", "x"], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 2
    assert run.stderr.startswith(f"{command}: error: "), run.stderr
