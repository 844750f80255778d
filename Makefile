# Two commands: `make lab` and `make test`.  Everything goes into .venv.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8888
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: lab test present constraints clean

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
	@echo "Starting JupyterLab on http://127.0.0.1:$(PORT)/ — open the URL with the token printed below."
	JUPYTERLAB_SETTINGS_DIR=$(CURDIR)/binder/lab-settings $(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
	  --ServerApp.root_dir=$(CURDIR)/notebooks

test: $(VENV)/.test-installed
	$(PY) -m pytest

constraints: $(VENV)/.test-installed
	{ head -3 constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^labkit'; } > constraints.new && mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache
