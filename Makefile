# The two commands of the README: `make book` (set up, render the book) and `make test`
# (set up, run every test). Both create .venv from requirements.txt when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup book test train browser

$(BIN)/.installed: requirements.txt requirements-base.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

setup: $(BIN)/.installed

# Train the chapter's model from the command line and print its translations
train: setup
	$(BIN)/seq2seq-attention train

book: setup
	$(BIN)/jupyter-book build --warningiserror --keep-going .

# Debian's Chromium and ChromeDriver for the browser test (needs root or sudo)
browser:
	@bash scripts/install-browser.sh

# The library's tests, the book's build and browser tests (tests/), and every chapter
# re-executed by nbval, its outputs compared with the stored ones (timings masked)
test: setup browser
	$(BIN)/python -m pytest tests book --nbval --nbval-sanitize-with book/nbval-sanitize.cfg
