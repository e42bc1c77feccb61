# Roundhouse: the two commands a newcomer needs are `make demo` and `make test`.
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all build deps test-deps demo test lint test-asan test-tsan bench bench-data bench-data-memory bench-search bench-hpo bench-hpo-wallclock bench-experiment bench-pipeline format format-check clean

all: build

deps:
	scripts/install-deps.sh

test-deps:
	scripts/install-deps.sh --test

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD)

# Builds, records a demo task on the embedded store and serves it.
demo: build
	scripts/demo.sh $(BUILD)/rh

# Builds (warnings are errors) and runs every check and test: format, layers,
# pyflakes and tsc (lint), unit tests, then end-to-end tests on the real binary.
test: test-deps $(BUILD)/build.ninja format-check
	cmake -S . -B $(BUILD) -DRH_WERROR=ON
	cmake --build $(BUILD)
	scripts/lint.sh
	$(BUILD)/rh_unit_tests --gtest_brief=1
	tests/run-e2e.sh $(BUILD)/rh

lint:
	scripts/lint.sh

# The unit tests (the store and blob conformance suites among them) under
# AddressSanitizer + UndefinedBehaviorSanitizer, or ThreadSanitizer, each in its
# own build folder; `make test-asan E2E=1` also runs the end-to-end suite on it.
test-asan: test-deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRH_SANITIZE=address,undefined
	cmake --build build-asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build-asan/rh_unit_tests --gtest_brief=1
	if [ -n "$(E2E)" ]; then ASAN_OPTIONS=detect_leaks=0 tests/run-e2e.sh build-asan/rh; fi

test-tsan: test-deps
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRH_SANITIZE=thread
	cmake --build build-tsan
	TSAN_OPTIONS=halt_on_error=1 build-tsan/rh_unit_tests --gtest_brief=1

bench: build
	bench/run.sh $(BUILD) all

bench-core: build
	bench/run.sh $(BUILD) core

bench-sdk: build
	bench/run.sh $(BUILD) sdk

bench-ui: build
	python3 bench/ui_table.py $(BUILD)

bench-agent: build
	python3 bench/agent_bench.py $(BUILD)

bench-hpo: build
	bench/hpo.sh $(BUILD)

bench-pipeline: build
	scripts/test-venv.sh >/dev/null
	python3 bench/pipeline_bench.py $(BUILD)

bench-hpo-wallclock: build
	bench/hpo.sh wallclock $(BUILD)

bench-experiment: build
	python3 bench/experiment_bench.py $(BUILD)

bench-search: build
	$(BUILD)/bench/rh_search_bench

bench-data: build
	bench/data.sh $(BUILD)

bench-data-memory: build
	python3 bench/data_memory.py $(BUILD)

SOURCES = $(shell git ls-files --cached --others --exclude-standard 'src/*.cpp' 'src/*.h' 'apps/*.cpp' 'bench/*.cpp')

format:
	clang-format -i $(SOURCES)

format-check:
	clang-format --dry-run --Werror $(SOURCES)

clean:
	rm -rf $(BUILD) build-asan build-tsan
