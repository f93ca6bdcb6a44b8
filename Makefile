# The two commands of the README: `make book` (set up, render the book) and `make test`
# (set up, run every test). Both create $(VENV) when it is missing, stale, or made by another
# Python. The stack follows $(PYTHON)'s version: 3.11, 3.12 or 3.13 (README, "Three stacks").
#   make test PYTHON=python3.13              another Python (or PYENV_VERSION=3.13.0 make test)
#   make test PYTHON=python3.13 VENV=.venv-3.13   keep each stack's environment
#   make test NBVAL=                         the library's tests only, no chapter re-executed
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUPPORTED := 3.11 3.12 3.13
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
STAMP := $(BIN)/.installed-python$(PY_VERSION)
# The chapters that `make test` re-executes under nbval
NBVAL ?= book

.PHONY: setup book test train translator browser colab-test

$(STAMP): requirements.txt requirements-mxnet.txt pyproject.toml
	@case " $(SUPPORTED) " in *" $(PY_VERSION) "*) ;; *) \
	    echo "error: '$(PYTHON)' is $(if $(PY_VERSION),Python $(PY_VERSION),not a Python that runs), not one of the supported" \
	         "$(SUPPORTED): run make with PYTHON=python3.13 (say), or PYENV_VERSION=3.13.0" >&2; \
	    exit 1;; esac
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-mxnet.txt
	touch $@

setup: $(STAMP)

# Train the chapter's model from the command line and print its translations
train: setup
	$(BIN)/seq2seq-attention train

# The long recipe (scripts/translator.py): the best model this library trains on the
# whole corpus in under two hours here, on both cores (two worker processes); its held-out
# scores go to book/data/translator.json. Interrupted, it continues with:
# make translator ARGS=--resume
translator: setup
	$(BIN)/python scripts/translator.py $(ARGS)

book: setup
	$(BIN)/jupyter-book build --warningiserror --keep-going .

# Debian's Chromium and ChromeDriver for the browser test (needs root or sudo)
browser:
	@bash scripts/install-browser.sh

# Lint and format checks (ruff), the library's tests, the book's build and browser tests
# (tests/), and every chapter re-executed by nbval, its outputs compared with the stored ones
# (timings masked)
test: setup browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest tests $(NBVAL) $(if $(NBVAL),--nbval --nbval-sanitize-with book/nbval-sanitize.cfg)

# Colab's default runtime, simulated: a fresh Python 3.13 with Colab's preinstalled packages
# runs each chapter's install cell (the repository URL pointed at this checkout), then nbval
colab-test:
	bash tests/colab/simulate.sh
