"""labkit is in layers: no module imports from a layer above its own, and each fact lives in one place."""
import ast
import pathlib

import pytest

import labkit
from labkit.core.state import NOBODY, Page, Pte, Spte, System, Thread
from labkit.tables.narrate import changes

PACKAGE = pathlib.Path(labkit.__file__).parent
#: Bottom to top.  A module may import from its own layer and the ones below.
LAYERS = ("core", "kernel", "scenario", "search", "tables", "widgets", "cli", "kit", "__init__", "__main__")


def layer_of(module: str) -> int:
    """``labkit.kernel.fault`` -> the index of ``kernel``."""
    parts = module.split(".")
    return LAYERS.index(parts[1] if len(parts) > 1 else "__init__")


def module_name(path: pathlib.Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts if relative.name != "__init__" else relative.parts[:-1] + ("__init__",)
    return ".".join(parts)


def imports(path: pathlib.Path):
    """Every labkit module ``path`` imports, outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    package = module_name(path).split(".")[:-1]
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            skipped.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if not target.startswith("labkit"):
                continue
            for alias in node.names:       # "from . import palette" names a module
                yield target if node.module else f"{target}.{alias.name}"
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("labkit"))


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_from_a_layer_above_its_own(path):
    own = layer_of(module_name(path))
    above = [target for target in imports(path) if target != "labkit" and layer_of(target) > own]
    assert not above, f"{module_name(path)} ({LAYERS[own]}) imports from above: {above}"


def test_every_layer_is_a_folder_or_a_module_of_the_package():
    for layer in LAYERS:
        assert (PACKAGE / layer).is_dir() or (PACKAGE / f"{layer}.py").is_file(), layer


def test_only_the_widgets_import_ipywidgets_or_bqplot():
    for path in MODULES:
        if path.parent.name == "widgets":
            continue
        text = path.read_text()
        assert "import ipywidgets" not in text and "import bqplot" not in text, path


def test_the_core_and_the_kernel_import_neither_pandas_nor_numpy():
    """The model runs anywhere Python runs (Pyodide without its CDN, a bare interpreter)."""
    for path in MODULES:
        if path.parent.name in ("core", "kernel") or path.name == "scenario.py":
            text = path.read_text()
            assert "pandas" not in text and "numpy" not in text, path


def _state(**fields) -> System:
    base = System(pages=(Page(1, "in_use"),), ptes=(Pte(0),), sptes=(None,), ptl=NOBODY,
                  mmu_lock=NOBODY, counters=(("mmu_notifier_seq", 0),), threads=(Thread(0), Thread(0)), stores=(0,))
    return base._replace(**fields)


CHANGED = {
    "pages": (Page(0, "free"),),
    "ptes": (None,),
    "sptes": (Spte(0, True),),
    "ptl": 1,
    "mmu_lock": 0,
    "counters": (("mmu_notifier_seq", 1),),
    "mmap_sem": -1,
    "page_lock": 0,
    "stores": (1,),
}


@pytest.mark.parametrize("field", [name for name in System._fields if name != "threads"])
def test_every_shared_field_of_the_state_is_narrated_when_it_changes(field):
    """A new field of System must get words (the test fails until CHANGED says how to change it)."""
    assert field in CHANGED, f"System.{field} is new: add it to CHANGED and give it words in narrate.FIELD_WORDS"
    model = labkit.build(labkit.Scenario(op="zap", scheme="range_seq", refmode="off"))
    words = changes(model, _state(), _state(**{field: CHANGED[field]}))
    assert words != "no shared state changed", field


def test_munmap_narrates_its_mmap_sem():
    trace = labkit.simulate(labkit.Scenario(op="zap", scheme="range", refmode="off", caller="munmap"), "vm")
    assert "mmap_sem taken for writing" in changes(trace.model, trace.states[0], trace.states[1])


def test_every_view_reads_the_invariants_words_from_one_table():
    """No module but core/invariants.py spells an invariant's title or its letter table."""
    for record in labkit.core.invariants.TABLE:
        owners = [path for path in MODULES if f'"{record.title}"' in path.read_text() or
                  f'"{record.words}"' in path.read_text()]
        assert [p.relative_to(PACKAGE).as_posix() for p in owners] == ["core/invariants.py"], record.name
