# Two commands: `make lab` and `make test`.  Everything goes into .venv.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8888
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: lab test present notebooks constraints clean

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "labkit needs Python 3.11 or newer"' \
	  || { echo "labkit needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv"; exit 1; }

$(VENV)/.lab-installed: $(PY) pyproject.toml constraints.txt
	$(PIP) -e .
	$(VENV)/bin/jupyter labextension list 2>&1 | grep -q "bqplot.*enabled" || { echo "bqplot's lab extension is missing"; exit 1; }
	@touch $@

$(VENV)/.test-installed: $(VENV)/.lab-installed
	$(PIP) -e '.[test]'
	@touch $@

lab: $(VENV)/.lab-installed
	@# JupyterLab reads setting defaults from <sys.prefix>/share/jupyter/lab/settings/overrides.json
	@# (binder/postBuild puts the same file there on Binder): save widget state in notebooks, no "Jupyter news?" pop-up.
	@install -D -m 644 binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@echo "Starting JupyterLab on http://127.0.0.1:$(PORT)/ — open the URL with the token printed below."
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
	  --ServerApp.root_dir=$(CURDIR)/notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# Presentation mode: the walkthrough as a Voila app, code hidden, widgets live.
# Port 8866 unless PORT is given (make present PORT=9000).  NOTEBOOK picks what to serve:
#   make present NOTEBOOK=notebooks/03_range_and_refcount.ipynb    one chapter
#   make present NOTEBOOK=notebooks                                every chapter, listed on the start page
present: NOTEBOOK ?= notebooks/lab.ipynb
present: VOILA_PORT = $(if $(filter file,$(origin PORT)),8866,$(PORT))
present: $(VENV)/.lab-installed
	@test -f $(NOTEBOOK) || test -d $(NOTEBOOK) || { echo "$(NOTEBOOK) does not exist (give a notebook or a folder of them)"; exit 1; }
	@$(PY) -c 'import voila' 2>/dev/null || $(PIP) voila
	@echo "Serving $(NOTEBOOK) with Voila on http://127.0.0.1:$(VOILA_PORT)/ (Ctrl-C stops it)."
	$(VENV)/bin/voila $(NOTEBOOK) --no-browser --Voila.ip=127.0.0.1 --port=$(VOILA_PORT) \
	  --strip_sources=True --show_tracebacks=False

test: $(VENV)/.test-installed
	$(PY) -m pytest

notebooks: $(VENV)/.test-installed
	for nb in notebooks/*.ipynb; do \
	  $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done

constraints: $(VENV)/.test-installed
	{ head -3 constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^labkit'; } > constraints.new && mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache
