# lvyue — the two quick-start commands are `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint bench venv clean

# Create .venv from the lock file (reproducible: hashes pinned in requirements.lock).
# Bytecode is compiled at install: with PYTHONDONTWRITEBYTECODE set (as on these machines)
# every command would otherwise recompile pandas, ibis & co. from source (~5 s per start).
$(STAMP): requirements.lock pyproject.toml
	@command -v uv >/dev/null 2>&1 || python3 -m pip install -q --disable-pip-version-check uv==0.13.9
	@test -x $(PY) || uv venv -q --python python3 $(VENV)
	uv pip sync -q --compile-bytecode --python $(PY) --require-hashes requirements.lock
	uv pip install -q --python $(PY) --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lvyue demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

test: $(STAMP)
	bash scripts/test.sh

bench: $(STAMP)
	$(PY) -m benchmarks.run $(ARGS)

# Regenerate the lock after editing pyproject.toml dependencies.
lock:
	uv pip compile pyproject.toml --extra spark --extra dev --generate-hashes \
	    --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
