# Samskab — the two commands: `make run` and `make test`. Only Python 3.11+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export SAMSKAB_ENV ?= development
export FLASK_APP := app

.PHONY: install run test lint fmt translations messages bench db seed clean

$(BIN)/activate: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Samskab needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(BIN)/activate

## Flask's CLI reads .flaskenv (python-dotenv), so `.venv/bin/flask --app app …` typed in a plain
## shell runs in development as `make` does. gunicorn never reads it: a server started without
## SAMSKAB_ENV still runs as production and refuses to start without SAMSKAB_SECRET_KEY.
## Written once; your own edits stay (it is git-ignored).
.flaskenv:
	@printf '%s\n' '# Written by make for local development (git-ignored; edit freely).' \
		'# Flask'"'"'s CLI reads it; gunicorn does not, so production still needs its settings.' \
		'FLASK_APP=app' 'SAMSKAB_ENV=development' > $@
	@echo "Wrote .flaskenv (FLASK_APP=app, SAMSKAB_ENV=development) for the flask commands."

install: $(BIN)/activate .flaskenv

translations: install
	$(BIN)/pybabel compile --statistics -d volunteer/translations

## Extract the strings to translate and merge them into the catalogues.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o volunteer/translations/messages.pot \
		--no-location --sort-output --omit-header .
	$(BIN)/pybabel update -i volunteer/translations/messages.pot -d volunteer/translations \
		--width 100 --ignore-obsolete --no-fuzzy-matching

db: translations
	$(BIN)/flask db upgrade

seed: db
	$(BIN)/flask seed-demo

## Set up, migrate, seed (once) and serve on http://$(HOST):$(PORT)
run: seed
	HOST=$(HOST) SAMSKAB_WEB_PORT=$(PORT) $(BIN)/honcho start --port $(PORT) --procfile Procfile

## Everything the machine allows: lint, format check, and the whole test suite
test: translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Benchmarks (tables on stdout, JSON under bench/results/); web_needs needs `wrk`
bench: translations
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/reminders.py
	$(BIN)/python bench/sms.py
	@command -v wrk >/dev/null && $(BIN)/python bench/web_needs.py || \
		echo "bench/web_needs.py skipped: install wrk (Debian: apt-get install wrk)"

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
