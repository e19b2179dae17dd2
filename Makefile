# portico — one Makefile, pkg-config for libraries.
#
#   make run    install what is missing, build, start a demo (portico + 3 backends)
#   make test   install what is missing, build, run every test (normal, ASan+UBSan,
#               TSan), static analysis and a fuzzing smoke run
#
# Builds go to build/release (optimised) and build/asan (sanitizers).

PKGS      := yaml-0.1 libcares libpcre2-8 libssl libcrypto libnghttp2
CC        ?= cc
CSTD      := -std=c11 -D_GNU_SOURCE
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS_RELEASE := -O2 -g
CFLAGS_ASAN    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -DPORTICO_DEBUG
PY        := /usr/bin/python3

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS       := $(PKG_LIBS) -lpthread -lm

SRCS      := $(shell find src -name '*.c' | sort)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
UNIT_SRCS := $(shell find tests/unit -name '*.c' 2>/dev/null | sort)

define objs
$(patsubst %.c,build/$(1)/obj/%.o,$(2))
endef

.PHONY: all release asan test unit e2e run deps clean format lint bench fuzz

all: release

release: build/release/portico
asan: build/asan/portico build/asan/unit-tests

build/release/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS_RELEASE) $(PKG_CFLAGS) -Isrc -MMD -MP -c $< -o $@

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS_ASAN) $(PKG_CFLAGS) -Isrc -MMD -MP -c $< -o $@

build/release/portico: $(call objs,release,$(SRCS))
	$(CC) -o $@ $^ $(LIBS)
build/asan/portico: $(call objs,asan,$(SRCS))
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(LIBS)

# Criterion unit tests, linked against every module but main.c.
build/release/unit-tests: $(call objs,release,$(LIB_SRCS) $(UNIT_SRCS))
	$(CC) -o $@ $^ $(LIBS) -lcriterion
build/asan/unit-tests: $(call objs,asan,$(LIB_SRCS) $(UNIT_SRCS))
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(LIBS) -lcriterion

deps:
	@sh tools/install-deps.sh

unit: deps build/release/unit-tests build/asan/unit-tests
	build/release/unit-tests --jobs=2
	ASAN_OPTIONS=detect_leaks=1 build/asan/unit-tests --jobs=2

# End-to-end: the real binary against scripted backends, normal then sanitized.
e2e: deps build/release/portico build/asan/portico
	PORTICO_BIN=build/release/portico $(PY) -m pytest -q tests/e2e
	PORTICO_BIN=build/asan/portico $(PY) -m pytest -q tests/e2e

# Everything CI runs: unit and end-to-end tests (normal and ASan+UBSan), the
# multi-worker end-to-end tests under TSan, static analysis, and a short run
# of every fuzz target.
test: unit e2e e2e-tsan lint fuzz-smoke

# Side by side with nginx and HAProxy (bench/matrix.py); the report goes to
# bench/results/. ROUNDS, SECONDS_PER_RUN, WORKERS and ONLY tune it.
bench: build/release/portico
	@sh tools/install-deps.sh bench
	$(PY) bench/matrix.py

run: deps build/release/portico
	@sh examples/run-demo.sh

format:
	clang-format -i $(SRCS) $(shell find src tests/unit -name '*.h')

clean:
	rm -rf build

# Fuzzing (tests/fuzz/fuzz.mk), static analysis and thread sanitizer
# (tools/analysis.mk), soak (tools/soak.mk): each in its own file.
-include tests/fuzz/fuzz.mk
-include tools/analysis.mk
-include tools/soak.mk

-include $(shell find build -name '*.d' 2>/dev/null)
-include bench/route.mk
