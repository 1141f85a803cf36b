"""The package's layering, checked on its source: arrows go one way.

Each top-level module or package of ``gan_lightning`` sits on a layer; a module may import
its own package and any lower layer, never a higher one. The MNIST demos (``gan_lightning.mnist``)
sit beside the core: they may use the core, nothing in the core imports them (configs name
them by ``class_path``). No module imports another module's private (``_name``) attribute.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "gan_lightning"

#: Lower numbers are lower layers. A package not listed here fails the test: place it.
LAYERS: dict[str, int] = {
    "errors": 0,
    "batch": 0,
    "seams": 0,  # the one module that touches private Lightning/torch API: imports no gan_lightning module
    "networks": 1,
    "objectives": 1,
    "regularizers": 1,
    "augment": 1,
    "data": 1,
    "metrics": 1,
    "training": 2,
    "sampling": 2,
    "checkpoint": 2,
    "strategies": 2,
    "loggers": 2,
    "tasks": 3,
    "callbacks": 4,
    "synthetic": 4,
    "commands": 5,
    "config": 5,
    "cli": 6,
    "__main__": 7,
    "mnist": 8,  # the demos: above the core, imported by no core module
}
#: Peers on one layer that may not import each other (each stands alone on the layer below).
INDEPENDENT_PEERS = {"networks", "objectives", "regularizers", "augment", "data", "metrics"}


def package_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported gan_lightning module, names imported from it) of one source file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gan_lightning"):
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names if alias.name.startswith("gan_lightning")]
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_package_has_a_layer():
    unplaced = sorted({package_of(path) for path in SOURCES} - set(LAYERS) - {"__init__"})
    assert not unplaced, f"place these in LAYERS: {unplaced}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_the_layers(path: Path):
    source = package_of(path)
    if source == "__init__":
        return
    wrong = []
    for line, module, _ in imports(path):
        parts = module.split(".")
        if len(parts) < 2:
            wrong.append(f"line {line}: `import gan_lightning` (name the module)")
            continue
        target = parts[1]
        if target == source:
            continue
        if LAYERS.get(target, 99) > LAYERS[source]:
            wrong.append(
                f"line {line}: {source} (layer {LAYERS[source]}) imports {module} (layer {LAYERS.get(target)})"
            )
        elif source in INDEPENDENT_PEERS and target in INDEPENDENT_PEERS:
            wrong.append(f"line {line}: {source} imports its peer {module}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_another_modules_private_names(path: Path):
    own_module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
    private = [
        f"line {line}: {name} from {module}"
        for line, module, names in imports(path)
        for name in names
        if name.startswith("_") and module != own_module
    ]
    assert not private, "\n".join(private)


def test_the_mnist_demos_are_imported_by_no_core_module():
    users = [
        str(path.relative_to(PACKAGE))
        for path in SOURCES
        if package_of(path) != "mnist"
        and any(module.startswith("gan_lightning.mnist") for _, module, _ in imports(path))
    ]
    assert not users, f"core modules importing the MNIST demos: {users}"
