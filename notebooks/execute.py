"""Execute notebooks in place, so that one whose outputs did not change is not rewritten (what ``make notebooks`` runs).

``jupyter nbconvert --execute --inplace`` rewrites every notebook on every run:
each widget gets a random model id (in the outputs' widget views and in the
widget state saved in the notebook's metadata), a print's output arrives in
chunks that fall differently each time, and each cell records when it ran.
Here the notebook is executed the same way (nbclient, the kernel started in
the notebook's folder, the widget state saved) and then made deterministic:

- widget model ids are renumbered in a fixed order: first the widgets the
  outputs display, in order, each followed by the models it refers to, then
  the models nothing displays (ordered by what they hold).  The new ids are
  still 32 hex digits (``notebooks/sanitize.cfg`` and JupyterLab see ids as
  before), derived from the notebook's name and the number, and replaced
  everywhere at once: the views, the saved state, the ``IPY_MODEL_`` references;
- consecutive stream outputs of the same name are merged into one;
- no cell records its execution time.

The file is written only if its text changed, through a new file renamed
over it.  ``--check`` writes nothing and exits 1 if some notebook would change.

    .venv/bin/python notebooks/execute.py notebooks/*.ipynb
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"
MODEL_ID = re.compile(r"[0-9a-f]{32}")
REFERENCE = "IPY_MODEL_"


def execute(notebook, folder: Path, timeout: int = 600) -> None:
    """Run every cell as nbconvert --execute does, without recording when each ran."""
    client = NotebookClient(notebook, timeout=timeout, kernel_name=notebook.metadata.kernelspec.name,
                            resources={"metadata": {"path": str(folder)}}, record_timing=False)
    client.execute()


def merged_streams(outputs: list) -> list:
    """Consecutive stream outputs of the same name (stdout, stderr) as one output."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.get("name") == output.get("name")):
            previous["text"] = previous["text"] + output["text"]
        else:
            merged.append(output)
    return merged


def references(value) -> list:
    """The model ids a widget's state refers to, in a fixed order (keys sorted, lists in order)."""
    found = []
    if isinstance(value, str):
        if value.startswith(REFERENCE):
            found.append(value[len(REFERENCE):])
    elif isinstance(value, dict):
        for key in sorted(value):
            found += references(value[key])
    elif isinstance(value, list):
        for item in value:
            found += references(item)
    return found


def model_order(notebook) -> list:
    """Every model id of the notebook, in the order the new ids are given (see the module's docstring)."""
    states = notebook.metadata.get("widgets", {}).get(STATE, {}).get("state", {})
    order, seen = [], set()

    def visit(model: str) -> None:
        stack = [model]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            order.append(current)
            stack.extend(reversed(references(states.get(current, {}))))

    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(VIEW)
            if view and "model_id" in view:
                visit(view["model_id"])
    unseen = [model for model in states if model not in seen]
    referred = {ref for model in unseen for ref in references(states[model])}
    canonical = _canonical(states)
    for model in sorted((m for m in unseen if m not in referred), key=canonical):
        visit(model)
    for model in sorted((m for m in unseen if m not in seen), key=canonical):    # only cycles are left
        visit(model)
    return order


def _canonical(states: dict):
    """A key for a model that does not depend on any id: its state, with each reference replaced by the
    key of the model it names (a cycle by a marker).  Equal keys mean interchangeable models."""
    memo: dict = {}

    def key(model: str, path: frozenset = frozenset()) -> str:
        if model in memo:
            return memo[model]
        if model in path:
            return "<cycle>"

        def rewrite(value):
            if isinstance(value, str) and value.startswith(REFERENCE):
                return key(value[len(REFERENCE):], path | {model})
            if isinstance(value, dict):
                return {k: rewrite(v) for k, v in value.items()}
            if isinstance(value, list):
                return [rewrite(v) for v in value]
            return value
        text = json.dumps(rewrite(states.get(model, {})), sort_keys=True)
        memo[model] = hashlib.sha256(text.encode()).hexdigest()
        return memo[model]
    return key


def renumbered(notebook, name: str):
    """The notebook with every widget model id replaced by one derived from ``name`` and its place in order."""
    order = model_order(notebook)
    new = {old: hashlib.sha256(f"labkit/{name}/{number}".encode()).hexdigest()[:32]
           for number, old in enumerate(order, start=1)}
    text = MODEL_ID.sub(lambda match: new.get(match.group(0), match.group(0)), json.dumps(notebook))
    return nbformat.from_dict(json.loads(text))


def normalised(notebook, name: str):
    """Merged streams, no execution times, renumbered widget ids (the same notebook gives the same text)."""
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
    return renumbered(notebook, name)


def write_if_changed(path: Path, notebook) -> bool:
    """Write ``notebook`` to ``path`` through a new file renamed over it, unless the text is the same."""
    text = nbformat.writes(notebook)
    text = text if text.endswith("\n") else text + "\n"
    if path.read_text(encoding="utf-8") == text:
        return False
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return True


def main(argv=None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("notebooks", nargs="+", type=Path)
    options.add_argument("--check", action="store_true", help="write nothing; exit 1 if a notebook would change")
    options.add_argument("--normalise-only", action="store_true",
                         help="do not execute: only make the stored outputs deterministic")
    args = options.parse_args(argv)
    changed = []
    for path in args.notebooks:
        notebook = nbformat.read(path, as_version=4)
        if not args.normalise_only:
            execute(notebook, path.resolve().parent)
        notebook = normalised(notebook, path.stem)
        if args.check:
            text = nbformat.writes(notebook)
            same = path.read_text(encoding="utf-8") in (text, text + "\n")
        else:
            same = not write_if_changed(path, notebook)
        print(f"{path}: {'unchanged' if same else 'would change' if args.check else 'rewritten'}", flush=True)
        if not same:
            changed.append(path)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
