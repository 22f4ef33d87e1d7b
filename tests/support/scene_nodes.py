"""Walking a loaded scene in the SVG tests: its groups and its shapes, in document order."""
import diffvg_jax as dv


def groups(scene):
    """Every Group of ``scene``, depth first in document order."""
    return [n for n in _walk(scene.children) if isinstance(n, dv.Group)]


def shapes(scene):
    """Every shape (non-Group node) of ``scene``, depth first in document order."""
    return [n for n in _walk(scene.children) if not isinstance(n, dv.Group)]


def _walk(nodes):
    for n in nodes:
        yield n
        if isinstance(n, dv.Group):
            yield from _walk(n.children)
