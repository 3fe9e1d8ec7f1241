# The two commands of the README: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# requirements.lock holds the exact versions the suite passed with (pip constraints): every install
# from it is the same. `make lock` writes it again after a change of pyproject.toml.
LOCK := requirements.lock
# `make run PORT=5055` serves on another port; links and calendar addresses follow it.
PORT ?= 5000

.PHONY: run test lint bench demo clean lock

# What runs (`make run`): astreinte and the PostgreSQL driver, nothing of the test stack.
RUN_STAMP := $(VENV)/.installed-run

$(RUN_STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[postgresql]'
	touch $(RUN_STAMP)

# What tests (`make test`, `make lint`): the same plus pytest, Playwright, ruff, mypy, hypothesis.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[test,postgresql]'
	touch $(STAMP) $(RUN_STAMP)

lock: $(STAMP)
	$(BIN)/pip install --quiet --upgrade -e '.[test,postgresql]'
	( echo "# Exact versions the project is tested with: make installs with -c $(LOCK) (pip constraints)."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^astreinte' ) > $(LOCK)

run: $(RUN_STAMP)
	$(BIN)/astreinte db upgrade
	$(BIN)/astreinte load examples/org.yaml --if-changed
	$(BIN)/astreinte up --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The stack under an outage (bench/stack.py: gunicorn, RQ workers, Redis, a Twilio stand-in; needs wrk),
# then the call log over 1 M calls. DATABASE_URL / REDIS_URL: scratch ones only, the bench empties them.
# BENCH_ARGS="--callers 200": the caller storm alone (bench/callers.py, `astreinte up` on SQLite, then on
# DATABASE_URL when it is PostgreSQL); "--paging-only --storm 6000": the storm of callouts alone.
bench: $(STAMP)
	case "$(BENCH_ARGS)" in *--callers*|*--paging-only*) ;; *) command -v wrk >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) ;; esac
	$(BIN)/python bench/stack.py $(BENCH_ARGS)

demo: $(RUN_STAMP)
	$(BIN)/astreinte demo

clean:
	rm -rf $(VENV) instance
