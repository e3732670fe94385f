"""The house rules of docs/ARCHITECTURE.md, checked over the code's own imports."""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "models", "crawlers", "dashboard")
MAX_LINES = 450
MAX_PIPELINE_TOP_FILES = 10
# Which room may import which (module-name prefixes). A room may always import itself.
ALLOWED = {
    "models": ("pipeline.core.normalize",),
    "pipeline.core": (),
    "pipeline.ingest": ("pipeline.core", "models"),
    "pipeline.review": ("pipeline.core", "models"),
    "pipeline.report": ("pipeline.core", "pipeline.review", "models"),
    "pipeline.watch": ("pipeline.core", "pipeline.review", "pipeline.report", "pipeline.ingest",
                       "crawlers.sources", "models"),
    "crawlers": ("pipeline.core", "pipeline.ingest", "models"),
    "pipeline.cli": ("pipeline", "crawlers", "models", "dashboard.server"),
    "dashboard": ("pipeline", "models", "crawlers.sources"),
}


def module_name(path: Path) -> str:
    """Dotted module name of a source file under the repository root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=None)
def source_files() -> tuple[Path, ...]:
    """Every Python file of the four packages (migrations included)."""
    return tuple(sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")))


@lru_cache(maxsize=None)
def known_modules() -> frozenset[str]:
    return frozenset(module_name(p) for p in source_files())


def imported_modules(path: Path) -> set[str]:
    """Project modules a file imports anywhere in it (lazy imports inside functions too)."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known_modules() else base)
    return {name for name in found if name.split(".")[0] in PACKAGES and name in known_modules()}


def import_graph() -> dict[str, set[str]]:
    return {module_name(p): imported_modules(p) - {module_name(p)} for p in source_files()}


def room_of(module: str) -> str:
    """The most specific room of ALLOWED a module belongs to."""
    rooms = [room for room in ALLOWED if module == room or module.startswith(room + ".")]
    return max(rooms, key=len) if rooms else module.split(".")[0]


def test_no_file_is_longer_than_the_limit() -> None:
    long = {str(p.relative_to(ROOT)): n for p in source_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_pipeline_keeps_few_files_at_its_top_level() -> None:
    top = sorted(p.name for p in (ROOT / "pipeline").glob("*.py"))
    assert len(top) <= MAX_PIPELINE_TOP_FILES, top


def test_models_import_only_the_normalisation_kernel_of_pipeline() -> None:
    graph = import_graph()
    outside = {module: sorted(t for t in targets if t.startswith("pipeline") and t != "pipeline.core.normalize")
               for module, targets in graph.items() if module.startswith("models")}
    assert {m: t for m, t in outside.items() if t} == {}


def test_rooms_import_only_what_the_architecture_allows() -> None:
    wrong = []
    for module, targets in import_graph().items():
        room = room_of(module)
        allowed = (room, *ALLOWED.get(room, ()))
        wrong += [f"{module} -> {t}" for t in sorted(targets)
                  if not any(t == a or t.startswith(a + ".") for a in allowed)]
    assert wrong == []


def test_there_is_no_import_circle() -> None:
    graph = import_graph()
    circles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


@pytest.mark.parametrize("package", ["pipeline", "pipeline.core", "pipeline.ingest", "pipeline.review",
                                     "pipeline.watch", "pipeline.report", "pipeline.cli", "models",
                                     "crawlers", "dashboard"])
def test_every_room_says_what_it_holds(package: str) -> None:
    init = ROOT / package.replace(".", "/") / "__init__.py"
    docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert docstring and len(docstring) > 40, f"{init} needs a docstring saying what the room holds"


def test_the_architecture_map_names_every_module() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [str(p.relative_to(ROOT)) for p in source_files()
               if not p.name.startswith("__") and "migrations" not in p.parts and "views" not in p.parts
               and p.relative_to(ROOT).as_posix().split("/", 1)[1] not in text]
    assert missing == []
