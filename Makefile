# Roundhouse: the two commands a newcomer needs are `make demo` and `make test`.
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all build deps test-deps demo test unit e2e bench bench-data bench-data-memory format format-check clean

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

# Builds and runs every test: unit tests, then end-to-end tests on the real binary.
test: test-deps $(BUILD)/build.ninja format-check
	cmake --build $(BUILD)
	$(BUILD)/rh_unit_tests --gtest_brief=1
	tests/run-e2e.sh $(BUILD)/rh

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
	rm -rf $(BUILD)
