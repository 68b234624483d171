# The two entry points of the README; everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The browser test drives Debian's chromium (Playwright cannot download a browser here).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench sample screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,national]'
	touch $@ $(VENV)/.runtime

# Main job on a bundled sample (SAMPLE=ninhbinh, the whole new province, or hanam, the former Hà
# Nam province alone, quicker): build the store, write the products, serve the viewer.
demo: SAMPLE ?= ninhbinh
demo: STORE ?= output/$(SAMPLE).gpkg
demo: $(VENV)/.runtime
	$(BIN)/gis-planner init --store $(STORE) --sample $(SAMPLE)
	$(BIN)/gis-planner layers --store $(STORE)
	$(BIN)/gis-planner map --store $(STORE)
	$(BIN)/gis-planner coverage --store $(STORE)
	$(BIN)/gis-planner speeds --store $(STORE)
	$(BIN)/gis-planner sharing --store $(STORE)
	$(BIN)/gis-planner candidates --store $(STORE) --operator vietnamobile --lon 105.913 --lat 20.541
	$(BIN)/gis-planner plan-sites --store $(STORE) --operator vietnamobile --budget 5
	$(BIN)/gis-planner switch-off --store $(STORE) --operator vietnamobile --technology 2G
	$(BIN)/gis-planner industry --store $(STORE)
	$(BIN)/gis-planner passive --store $(STORE)
	$(BIN)/gis-planner fibre --store $(STORE)
	$(BIN)/gis-planner report --store $(STORE)
	$(BIN)/gis-planner serve --store $(STORE)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; }
	ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql postgresql-postgis; }
	$(BIN)/pytest

bench: $(VENV)/.dev
	command -v wrk >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }
	for module in $$(ls benchmarks/bench_*.py | xargs -n1 basename | sed "s/\.py$$//"); do $(BIN)/python -m benchmarks.$$module || exit 1; done

# Rebuild the bundled samples from layers/sources (deterministic; the output is committed).
sample: $(VENV)/.dev
	$(BIN)/python -m layers.build_sample

# The README's pictures (docs/img/): the sample with coverage, sharing, fibre and the report in
# a store of their own, then the viewer and the report in Debian's chromium.
SHOTS_STORE := output/screenshots/hanam.gpkg
screenshots: $(VENV)/.dev
	command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; }
	$(BIN)/gis-planner init --store $(SHOTS_STORE) --sample hanam
	$(BIN)/gis-planner coverage --store $(SHOTS_STORE) --tech 4G --tech 5G --resolution-m 100 --replace
	$(BIN)/gis-planner sharing --store $(SHOTS_STORE)
	$(BIN)/gis-planner fibre --store $(SHOTS_STORE)
	$(BIN)/gis-planner report --store $(SHOTS_STORE)
	$(BIN)/python -m docs.screenshots --store $(SHOTS_STORE) --out docs/img

clean:
	rm -rf output .pytest_cache .mypy_cache .ruff_cache
