"""The import layers of transfer_cli (DESIGN §3), checked on the source with `ast`:
every import statement counts, module-level, function-local and TYPE_CHECKING ones alike.

Bottom to top: errors/config → tokens (with the vector table and similarity) → lang →
ml → pipeline → training (with the init-vectors engine) → cli. A module imports from
its own layer or below, never above; modules never import each other in a circle; and a
module imports the package's own modules at the top, not inside functions, except at the
CLI edge (commands load their engine lazily so `--help` stays fast)."""
import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "transfer_cli"

# The first name below transfer_cli → its layer, bottom (0) to top. "" is the package's
# own __init__ (transfer_cli.blank/load), the public face above everything.
LAYERS: List[Tuple[str, ...]] = [
    ("errors", "about", "fileio", "model_files", "textfiles", "user_code", "installed", "environment", "config"),
    ("tokens",),
    ("lang",),
    ("ml",),
    ("pipeline", "scoring"),
    ("training", "evaluation", "annotate"),
    ("cli", "__main__", ""),
]
LAYER_OF: Dict[str, int] = {name: level for level, names in enumerate(LAYERS) for name in names}

# Where a function may import the package's own modules: the CLI edge.
LAZY_IMPORTS_ALLOWED = ("transfer_cli/__init__.py", "transfer_cli/cli/")

# Known exceptions being fixed elsewhere. Each entry must still hold: whoever fixes one
# deletes it here, and the checks then cover it.
PENDING_CYCLES: Set[Tuple[str, ...]] = set()
PENDING_LAZY: Set[Tuple[str, str]] = set()  # (file, module it imports inside a function)


def modules() -> Dict[str, Path]:
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name[: -len(".__init__")] if name.endswith(".__init__") else name] = path
    return found


def imports(name: str, path: Path, known: Dict[str, Path]) -> Iterator[Tuple[str, int, bool]]:
    """(imported module of the package, line, inside a function) for each import in a module."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf8"))
    in_function: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(inner) for inner in ast.walk(node) if inner is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # a name inside a module → that module
                target = target.rsplit(".", 1)[0] if "." in target else ""
            if target and target != name:
                yield target, node.lineno, id(node) in in_function


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYER_OF[parts[1] if len(parts) > 1 else ""]


def layer_name(module: str) -> str:
    return "/".join(name or PACKAGE for name in LAYERS[layer(module)])


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def check_pending(found: Set, pending: Set, what: str) -> List[str]:
    """Problems: what is found beyond `pending`, and `pending` entries that no longer hold."""
    return ([f"{what}: {item}" for item in sorted(found - pending)]
            + [f"fixed, so delete it from tests/test_layers.py: {item}" for item in sorted(pending - found)])


def test_every_module_has_a_layer():
    unplaced = sorted({m.split(".")[1] for m in modules() if "." in m} - set(LAYER_OF))
    assert not unplaced, f"add these to LAYERS in tests/test_layers.py: {unplaced}"


def test_imports_only_go_down():
    known = modules()
    upward = [f"{where(path, line)} ({layer_name(name)}) imports {target} ({layer_name(target)})"
              for name, path in known.items() for target, line, _ in imports(name, path, known)
              if layer(target) > layer(name)]
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def test_no_import_cycles():
    """Strongly connected modules (Tarjan). A package's __init__ re-exporting its modules
    is its face, not a dependency, so edges to and from __init__ files are left out."""
    known = modules()
    is_init = {name: path.name == "__init__.py" for name, path in known.items()}
    edges = {name: sorted({t for t, _, _ in imports(name, path, known) if not is_init[t]})
             for name, path in known.items() if not is_init[name]}
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    cycles: List[Tuple[str, ...]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(tuple(sorted(component)))

    for v in edges:
        if v not in index:
            visit(v)
    problems = check_pending(set(cycles), PENDING_CYCLES, "import cycle")
    assert not problems, "\n".join(problems)


def test_function_local_imports_only_at_the_cli_edge():
    known = modules()
    lazy = {(str(path.relative_to(ROOT)), target) for name, path in known.items()
            for target, _, local in imports(name, path, known)
            if local and not str(path.relative_to(ROOT)).startswith(LAZY_IMPORTS_ALLOWED)}
    problems = check_pending(lazy, PENDING_LAZY, "imported inside a function (import it at the top)")
    assert not problems, "\n".join(problems)
