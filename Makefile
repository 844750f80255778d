# Two commands: `make lab` and `make test`.  Everything goes into .venv (and the JupyterLite build into .venv-lite).
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8888
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt
# The JupyterLite build has a venv of its own: jupyterlite-pyodide-kernel installs a lab
# extension that works only inside JupyterLite, and JupyterLab in .venv would load it and fail.
LITE_VENV ?= .venv-lite
LITE_PY    = $(LITE_VENV)/bin/python

.PHONY: lab test present notebooks constraints clean lite lite-offline serve-lite pyodide-core

$(PY) $(LITE_PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "labkit needs Python 3.11 or newer"' \
	  || { echo "labkit needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv $(patsubst %/,%,$(dir $(@D))) || { echo "Could not create $(patsubst %/,%,$(dir $(@D))). On Debian/Ubuntu: apt-get install python3-venv"; exit 1; }

$(VENV)/.lab-installed: $(PY) pyproject.toml constraints.txt
	$(PIP) -e .
	$(VENV)/bin/jupyter labextension list 2>&1 | grep -q "bqplot.*enabled" || { echo "bqplot's lab extension is missing"; exit 1; }
	@touch $@

$(VENV)/.test-installed: $(VENV)/.lab-installed
	$(PIP) -e '.[test]'
	@touch $@

$(LITE_VENV)/.installed: $(LITE_PY) pyproject.toml constraints.txt
	$(LITE_PY) -m pip install --disable-pip-version-check -q -c constraints.txt -e '.[lite]'
	@touch $@

lab: $(VENV)/.lab-installed
	@# JupyterLab reads setting defaults from <sys.prefix>/share/jupyter/lab/settings/overrides.json
	@# (binder/postBuild puts the same file there on Binder): save widget state in notebooks, no "Jupyter news?" pop-up.
	@install -D -m 644 binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@$(MAKE) --no-print-directory trust
	@echo "Starting JupyterLab on http://127.0.0.1:$(PORT)/ — open the URL with the token printed below."
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
	  --ServerApp.root_dir=$(CURDIR)/notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# The notebooks ship with their outputs: figures as SVG, widgets with their saved state.  JupyterLab shows
# an untrusted notebook's SVG and widget outputs as their plain-text fallback until it is run, so make lab
# signs the shipped notebooks in this user's own store (jupyter trust: nbsignatures.db in the Jupyter data
# folder), as binder/postBuild does on Binder.  A notebook edited elsewhere is trusted again at the next make lab.
.PHONY: trust
trust:
	@test -x $(VENV)/bin/jupyter || { echo "$(VENV)/bin/jupyter is missing: run make lab"; exit 1; }
	@echo "Trusting the notebooks in notebooks/ (jupyter trust), so their stored figures show before they run."
	@$(VENV)/bin/jupyter trust notebooks/*.ipynb > /dev/null

# The worksheet's printed answer key for SEED (notebook 08's default: 2008), generated from the model;
# tests/test_exercises.py keeps notebooks/answer_key_2008.md equal to it.
.PHONY: answer-key
answer-key: SEED ?= 2008
answer-key: $(VENV)/.lab-installed
	$(PY) -c 'import labkit; print(labkit.exercises.answer_key(int("$(SEED)")), end="")' > notebooks/answer_key_$(SEED).md.new
	@mv notebooks/answer_key_$(SEED).md.new notebooks/answer_key_$(SEED).md
	@echo "Wrote notebooks/answer_key_$(SEED).md"

# Presentation mode: the walkthrough as a Voila app, code hidden, widgets live.
# Port 8866 unless PORT is given (make present PORT=9000).  NOTEBOOK picks what to serve:
#   make present NOTEBOOK=notebooks/03_range_and_refcount.ipynb    one chapter
#   make present NOTEBOOK=notebooks                                every chapter, listed on the start page
#   make present IP=0.0.0.0                                        reachable from the room's network, for a class
# present/voila.py holds the settings for a class: a page's kernel ends when the page closes,
# and the kernel of a page that vanished is culled (the browser test runs Voila with the same file).
present: NOTEBOOK ?= notebooks/lab.ipynb
present: VOILA_PORT = $(if $(filter file,$(origin PORT)),8866,$(PORT))
present: IP ?= 127.0.0.1
present: $(VENV)/.lab-installed
	@test -f $(NOTEBOOK) || test -d $(NOTEBOOK) || { echo "$(NOTEBOOK) does not exist (give a notebook or a folder of them)"; exit 1; }
	@$(PY) -c 'import voila' 2>/dev/null || $(PIP) voila
	@echo "Serving $(NOTEBOOK) with Voila on http://$(IP):$(VOILA_PORT)/ — open the URL with the token printed below (Ctrl-C stops it)."
	$(VENV)/bin/voila $(NOTEBOOK) --no-browser --Voila.ip=$(IP) --port=$(VOILA_PORT) --token \
	  --Voila.config_file_paths=$(CURDIR)/present

test: $(VENV)/.test-installed $(LITE_VENV)/.installed
	LABKIT_LITE_PYTHON=$(LITE_PY) $(PY) -m pytest

# Re-execute every notebook; one whose outputs did not change is not rewritten (notebooks/execute.py says how).
notebooks: $(VENV)/.test-installed
	$(PY) notebooks/execute.py notebooks/*.ipynb

# JupyterLite: the lab as static files, the kernel in the browser (lite/build.py says how).
# make lite: site/, loading Pyodide from its CDN like a published site;
# make lite-offline: site/ with Pyodide's core from the pyodide npm package (needs npm), no CDN.
LITE_PORT ?= 8000
lite: $(LITE_VENV)/.installed
	$(LITE_PY) lite/build.py --output site

lite-offline: $(LITE_VENV)/.installed
	$(LITE_PY) lite/build.py --output site --offline

pyodide-core: $(LITE_VENV)/.installed
	$(LITE_PY) lite/build.py --fetch-pyodide-core

serve-lite:
	@test -f site/jupyter-lite.json || { echo "site/ is not built: run make lite first"; exit 1; }
	@echo "Serving site/ on http://127.0.0.1:$(LITE_PORT)/ (Ctrl-C stops it)."
	$(PYTHON) -m http.server --bind 127.0.0.1 --directory site $(LITE_PORT)

# Both venvs, merged in pip freeze's order; a package at two versions is an error.
constraints: $(VENV)/.test-installed $(LITE_VENV)/.installed
	{ head -3 constraints.txt; { $(PY) -m pip freeze --exclude-editable; $(LITE_PY) -m pip freeze --exclude-editable; } \
	  | grep -v '^labkit' | $(PY) -c "$$MERGE_FREEZES"; } > constraints.new && mv constraints.new constraints.txt

define MERGE_FREEZES
import sys
from packaging.utils import canonicalize_name
pins = {}
for line in sys.stdin:
    name = line.split("==")[0]
    if pins.setdefault(canonicalize_name(name), line) != line:
        sys.exit(f"the two venvs disagree: {pins[canonicalize_name(name)].strip()} and {line.strip()}")
sys.stdout.writelines(sorted(pins.values(), key=lambda line: line.split("==")[0].lower()))
endef
export MERGE_FREEZES

clean:
	rm -rf $(VENV) $(LITE_VENV) .pytest_cache site lite/cache
