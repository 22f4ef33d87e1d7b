"""The house rules of CONTRIBUTING.md, checked where a tool can check them.

Each test reads the source as text or as an AST (nothing is imported), so a failure names
the file and line that breaks the rule.
"""
import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "diffvg_jax"
KERNELS = ROOT / "kernels"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
# A file or function may run longer when a comment says why, with these markers.
LONG_FILE_MARK = "# long-file:"
LONG_FUNCTION_MARK = "# long-function:"
# Packages the applications may import the engine through (their __init__ is the public face).
ENGINE_PUBLIC = {"diffvg_jax", "diffvg_jax.scene", "diffvg_jax.geometry", "diffvg_jax.paint",
                 "diffvg_jax.raster", "diffvg_jax.runtime", "diffvg_jax.svg", "diffvg_jax.kernels"}


def source_files(*roots):
    for root in roots:
        yield from sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def package_sources():
    return list(source_files(PACKAGE, KERNELS))


def module_name(path: Path) -> str:
    """Dotted module name of a file under diffvg_jax/ or kernels/ (installed as diffvg_jax.kernels)."""
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "kernels":
        parts = ["diffvg_jax"] + parts
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def absolute_module(path: Path, node: ast.ImportFrom) -> str:
    """The module an ImportFrom names, with relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module_name(path).split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def is_ours(module: str) -> bool:
    return module == "diffvg_jax" or module.startswith("diffvg_jax.") or module.startswith("kernels")


def where(path, node):
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def test_import_contracts_hold():
    """import-linter's contracts in .importlinter: layers point down, kernels and runtime import
    nothing of the engine, the engine never imports svg or the applications."""
    exe = shutil.which("lint-imports")
    assert exe, "lint-imports not found: install the test extra (pip install -e '.[test]')"
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_no_package_imports_inside_functions():
    """Imports inside functions hid cycles; the only exception is the lazy attribute loader of
    the top-level package (it keeps `import diffvg_jax` light)."""
    bad = []
    for path in package_sources():
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and is_ours(absolute_module(path, node)):
                    bad.append(where(path, node))
                elif isinstance(node, ast.Import) and any(is_ours(a.name) for a in node.names):
                    bad.append(where(path, node))
        text = path.read_text()
        if "import_module(" in text and path != PACKAGE / "__init__.py":
            bad.append(f"{path.relative_to(ROOT)}: importlib.import_module")
    assert not bad, "package imports inside functions:\n" + "\n".join(bad)


def test_no_private_name_crosses_a_file():
    """What two modules share is a public name of the lower one (tests and benchmarks too)."""
    bad = []
    for path in source_files(PACKAGE, KERNELS, ROOT / "tests", ROOT / "bench"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            inside = path.is_relative_to(PACKAGE) or path.is_relative_to(KERNELS)
            module = absolute_module(path, node) if inside else (node.module or "")
            if not is_ours(module):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    bad.append(f"{where(path, node)}: {alias.name} from {module}")
    assert not bad, "private names imported from another file:\n" + "\n".join(bad)


def test_applications_use_only_the_public_engine():
    """diffvg_jax.apps reaches the engine through its packages' public faces only."""
    bad = []
    for path in source_files(PACKAGE / "apps"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.ImportFrom):
                modules = [absolute_module(path, node)]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            for module in modules:
                if is_ours(module) and not module.startswith("diffvg_jax.apps") and module not in ENGINE_PUBLIC:
                    bad.append(f"{where(path, node)}: {module}")
    assert not bad, "applications importing engine internals:\n" + "\n".join(bad)


def test_files_and_functions_stay_small():
    """One concept per module: files under 400 lines and functions under 80 (not counting
    their docstrings), unless a comment
    (`# long-file: why` anywhere in the file, `# long-function: why` on the line above the
    def or its decorators) says why."""
    bad = []
    for path in package_sources():
        text = path.read_text()
        lines = text.splitlines()
        if len(lines) > MAX_FILE_LINES and LONG_FILE_MARK not in text:
            bad.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            length = node.end_lineno - node.lineno + 1
            doc = node.body[0] if node.body and isinstance(node.body[0], ast.Expr) else None
            if doc is not None and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
                length -= doc.end_lineno - doc.lineno + 1      # the docstring is not code
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            above = lines[first - 2] if first >= 2 else ""
            if length > MAX_FUNCTION_LINES and LONG_FUNCTION_MARK not in above:
                bad.append(f"{where(path, node)}: {node.name} is {length} lines")
    assert not bad, "too long without a comment saying why:\n" + "\n".join(bad)


DOC_REFERENCE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b")


def test_documents_cited_in_the_code_exist():
    """Every Markdown document a docstring or comment names is in the project (the design
    notes outside it are cited as shared/DESIGN.md)."""
    bad = []
    for path in source_files(PACKAGE, KERNELS, ROOT / "tests", ROOT / "bench"):
        if path == Path(__file__).resolve():   # its own samples name missing documents on purpose
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            for ref in DOC_REFERENCE.findall(line):
                if ref.startswith("shared/") or "/shared/" in ref:
                    continue
                candidates = [ROOT / ref, ROOT / "notes" / ref, path.parent / ref]
                if not any(c.exists() for c in candidates):
                    bad.append(f"{path.relative_to(ROOT)}:{lineno}: {ref}")
    assert not bad, "documents cited but missing:\n" + "\n".join(bad)


@pytest.mark.parametrize("rule", [
    "from diffvg_jax.raster.renderer import render",
    "from diffvg_jax.raster import _private",
])
def test_the_rule_checks_can_fail(rule, tmp_path):
    """The checks above are not vacuous: the patterns they look for are seen in a sample."""
    path = PACKAGE / "apps" / "example.py"
    node = ast.parse(rule).body[0]
    module = absolute_module(path, node)
    assert is_ours(module)
    if "_private" in rule:
        assert node.names[0].name.startswith("_")
    else:
        assert module not in ENGINE_PUBLIC
    assert module_name(KERNELS / "tiles.py") == "diffvg_jax.kernels.tiles"
    assert absolute_module(PACKAGE / "raster" / "x.py", ast.parse("from ..paint import y").body[0]) == "diffvg_jax.paint"
    assert DOC_REFERENCE.findall("see notes/tiles.md and DESIGN.md") == ["notes/tiles.md", "DESIGN.md"]
