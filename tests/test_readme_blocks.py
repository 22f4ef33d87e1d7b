"""Every code block of README.md works as written.

- Each ```python block runs, in order, in a fresh namespace and a fresh working folder
  (with the repository's ``assets/`` beside it, as "from this directory" says): a block
  defines what it uses. The few heavy ones are shrunk by :data:`SHRINK`, exact text
  substitutions applied here only (the reader's text is unchanged); a substitution that no
  longer matches fails the test, so the table cannot rot silently.
- Every ``diffvg-*`` command in a shell block (fenced or indented) and every option of the
  README's command-line table uses only options that command's parser has.
"""
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# The commands of the options table ("## Command lines").
TABLE_COMMANDS = ("diffvg-fit", "diffvg-clipdraw", "diffvg-mnist-vae")


def scripts():
    """[project.scripts] of pyproject.toml: command -> the module of its ``build_parser``."""
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    return {name: target.split(":")[0] for name, target in re.findall(r'^([\w-]+)\s*=\s*"([\w.:]+)"', section, re.M)}


PARSERS = {name: importlib.import_module(module).build_parser for name, module in scripts().items()}

# (text in a block, what the test runs instead): sizes a CPU test can afford, and CLIP
# weights the test machine does not have (a tiny random CLIP: the same code path).
SHRINK = [
    ('load_image("assets/chelsea.png", size=96)', 'load_image("assets/chelsea.png", size=20)'),
    ("num_paths=64, mode=\"stroke\", iterations=200", "num_paths=4, mode=\"stroke\", iterations=3"),
    ('dv.clip.load("~/models/clip-vit-base-patch32")', 'dv.clip.CLIP.random("tiny")'),
    ("num_paths=256, iterations=1000)", "num_paths=4, iterations=2, canvas_size=32)"),
]


def python_blocks(text):
    """(line number, code) of every ```python block."""
    return [(text[:m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(r"^```python\n(.*?)^```", text, re.M | re.S)]


def shrink(code):
    """The block with :data:`SHRINK` applied; the substitutions used."""
    used = []
    for old, new in SHRINK:
        if old in code:
            code = code.replace(old, new)
            used.append(old)
    return code, used


BLOCKS = python_blocks(README.read_text())


def test_readme_has_python_blocks_and_every_shrink_applies():
    assert len(BLOCKS) >= 3
    used = [old for _, code in BLOCKS for old in shrink(code)[1]]
    assert sorted(used) == sorted(old for old, _ in SHRINK), "a SHRINK entry no longer matches the README"


@pytest.mark.slow
@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_python_block_runs(line, code, tmp_path, monkeypatch):
    (tmp_path / "assets").symlink_to(ROOT / "assets")
    monkeypatch.chdir(tmp_path)
    source, _ = shrink(code)
    exec(compile(source, f"README.md:{line}", "exec"), {"__name__": "__readme__"})


def test_a_broken_block_fails():
    """The runner above is not a no-op: a block using a name it never defines raises."""
    with pytest.raises(NameError):
        exec(compile("import diffvg_jax as dv\nimg = dv.render(scene)", "README.md:0", "exec"), {})


def shell_commands(text):
    """(command, option list) of every diffvg-* command line in the README's shell blocks
    (fenced without a language, or indented) with backslash continuations joined; comments
    after the command are dropped."""
    fenced = [m.group(2) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S) if not m.group(1)]
    indented = re.findall(r"(?:^(?: {4}|\t).*\n)+", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S), re.M)
    found = []
    for block in fenced + indented:
        for line in block.replace("\\\n", " ").splitlines():
            for m in re.finditer(r"\b(diffvg-[a-z-]+)\b(.*)", line):
                rest = re.split(r"\s{2,}[#(]|\s#\s", m.group(2))[0]
                found.append((m.group(1), re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", rest)))
    return found


def known_options(command):
    return {s for a in PARSERS[command]()._actions for s in a.option_strings}


def test_shell_commands_use_existing_options():
    found = shell_commands(README.read_text())
    assert {c for c, _ in found} >= set(PARSERS), "a command is never shown in the README"
    bad = [(c, o) for c, opts in found if c in PARSERS for o in opts if o not in known_options(c)]
    assert not bad, f"options the commands do not have: {bad}"


def test_the_cli_table_names_existing_options():
    """The 'Command lines' section's table: each row's options exist in every command it is
    marked for."""
    text = README.read_text()
    section = text.split("## Command lines", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in section.splitlines() if r.startswith("| `--")]
    assert rows
    for row in rows:
        option = re.match(r"\| `(--[a-z-]+)", row).group(1)
        for command in TABLE_COMMANDS:
            assert option in known_options(command), (command, option)


def test_shell_command_extraction_sees_a_bad_option():
    found = shell_commands("x\n\n    diffvg-fit a.png --out d.svg \\\n        --no-such-option  # comment --x\n")
    assert found == [("diffvg-fit", ["--out", "--no-such-option"])]
    assert "--no-such-option" not in known_options("diffvg-fit")

