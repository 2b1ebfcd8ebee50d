# Two commands do everything on a fresh machine with Python 3.11+, Node 20+ and make:
#   make demo   hand a conversation to Flex end to end on the embedded Twilio emulator
#   make test   the whole test suite: lint (ruff, import layers, ESLint), the Node unit tests, the Flex plugin's
#               Jest tests and build, then pytest (with the plugin's browser test where Chromium is installed)
#   make bench  measure the handoff (round trips, latency, cold start, a burst) into bench/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Twilio's OpenAPI description, fetched by its pinned version and integrity (py/twilio_emulator/spec_files.py).
SPEC_FILES := .cache/twilio-oai/.fetched
# pytest's workers (pytest-xdist), each with its own emulator and runtimes: the tests mostly wait on loopback
# requests and child processes, so twice the cores of a 2-core machine keep both busy. PYTEST_WORKERS=0 runs in one.
PYTEST_WORKERS ?= 4

.PHONY: install demo lint test-js test-plugin plugin agent-view test bench generate validate clean

# The Flex plugin (plugin-ai-handover/): its own npm project, its production bundle, and the browser its test drives.
PLUGIN := plugin-ai-handover
PLUGIN_BUNDLE := $(PLUGIN)/build/plugin-ai-handover.js
CHROMIUM ?= /usr/bin/chromium

install: $(VENV)/.installed node_modules/.installed $(PLUGIN)/node_modules/.installed $(SPEC_FILES)

# Python: the handover package and its pinned dependencies, into .venv/
$(VENV)/.installed: pyproject.toml py/twilio_emulator/pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or later is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ./py/twilio_emulator -e '.[emulator,bench,test]'
	touch $@

# Node: twilio, the runtime handler, twilio-run and ESLint, into node_modules/
node_modules/.installed: package.json package-lock.json
	@node -e 'const major = Number(process.versions.node.split(".")[0]); if (major < 20) { console.error(`Node.js 20 or later is needed, found $${process.versions.node}`); process.exit(1); }' \
		|| { echo "Install Node.js 20 or later (with npm), then run make again." >&2; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

# The plugin's tooling (flex-plugin-scripts, Flex UI, React, Paste, Jest, playwright-core), into its node_modules/
$(PLUGIN)/node_modules/.installed: $(PLUGIN)/package.json $(PLUGIN)/package-lock.json
	npm ci --prefix $(PLUGIN) --no-audit --no-fund
	touch $@

# The plugin's production bundle, which the browser test loads and Flex's Plugins API is given: built again only when
# a source changes. FLEX_APP_HANDOVER_BASE_URL, when set, is built in (the Functions service's domain).
plugin: $(PLUGIN_BUNDLE)
$(PLUGIN_BUNDLE): $(PLUGIN)/node_modules/.installed $(PLUGIN)/package.json $(shell find $(PLUGIN)/src -type f 2>/dev/null)
	cd $(PLUGIN) && npm run --silent build > build.log 2>&1 || { cat build.log >&2; exit 1; }
	touch $@

# The twilio-oai JSON files of @twilio/cli-core, `npm pack`ed (no dependency tree), checked and extracted into
# .cache/twilio-oai/; again only when the pin changes (the module does nothing when the cache is complete).
$(SPEC_FILES): py/twilio_emulator/spec_files.py $(VENV)/.installed
	$(BIN)/twilio-emulator fetch-openapi .
	touch $@

demo: install plugin
	$(BIN)/handover demo

# Static checks, one command a line: Python's format and lint (ruff), its import layers (import-linter), then ESLint.
lint: install
	$(BIN)/ruff format --check py tests guards
	$(BIN)/ruff check py tests guards
	$(BIN)/lint-imports
	node_modules/.bin/eslint --max-warnings 0 .

# Node's unit tests of the helpers. Given a folder, node --test also runs test.js, test-*.js, *_test.js,
# *-test.js, *.test.mjs/.cjs and whatever is under a test/ folder: the check first keeps tests/ to *.test.js.
test-js: install
	@stray="$$(find tests -type f \( -name 'test.*js' -o -name 'test-*.*js' -o -name '*[_-]test.*js' -o -name '*.test.[cm]js' -o -path '*/test/*.*js' \) ! -name '*.test.js')"; \
		test -z "$$stray" || { echo "node --test would run these as tests; name a test file *.test.js: $$stray" >&2; exit 1; }
	node --test tests/

# The plugin's component tests (Jest in jsdom; flex-plugin test cannot run them, it passes Jest a flag Jest refuses).
test-plugin: install
	cd $(PLUGIN) && node_modules/.bin/jest --silent

# The agent's view as a reader sees it: the browser test's screenshot, into the docs.
agent-view: install plugin
	HANDOVER_AGENT_VIEW_SCREENSHOT=$(CURDIR)/docs/images/agent-view.png $(BIN)/pytest tests/plugin_ai_handover -n 0 -q

test: install
	$(MAKE) lint
	$(MAKE) test-js
	$(MAKE) test-plugin
	$(MAKE) plugin
	@test -x $(CHROMIUM) || echo "Chromium is not at $(CHROMIUM): the Flex plugin's browser test will be SKIPPED (apt-get install chromium)." >&2
	$(BIN)/pytest -n $(PYTEST_WORKERS)

# Results, report and chart in bench/ (committed: docs/benchmarks.md quotes them); about 6 minutes on 2 cores.
bench: install
	$(BIN)/handover bench --out bench

generate: install
	$(BIN)/handover generate

validate: install
	$(BIN)/handover validate

clean:
	rm -rf $(VENV) node_modules $(PLUGIN)/node_modules $(PLUGIN)/build .pytest_cache .ruff_cache .import_linter_cache
