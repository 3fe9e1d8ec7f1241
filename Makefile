# The two commands of the README: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/astreinte db upgrade
	$(BIN)/astreinte load examples/org.yaml --if-empty
	$(BIN)/astreinte up

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The stack under an outage (bench/stack.py: gunicorn, RQ workers, Redis, a Twilio stand-in; needs wrk),
# then the call log over 1 M calls. DATABASE_URL / REDIS_URL: scratch ones only, the bench empties them.
bench: $(STAMP)
	$(BIN)/python bench/stack.py $(BENCH_ARGS)

demo: $(STAMP)
	$(BIN)/astreinte demo

clean:
	rm -rf $(VENV) instance
