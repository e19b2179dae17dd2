# portico — one Makefile, pkg-config for libraries.
#
#   make run    install what is missing, build, start a demo (portico + 3 backends)
#   make test   install what is missing, build, run every test (normal, ASan+UBSan,
#               TSan), static analysis and a fuzzing smoke run
#
# Builds go to build/release (optimised) and build/asan (sanitizers).

PY := /usr/bin/python3

# --- Installing first ------------------------------------------------------
# These goals start on a machine that may have none of the packages, not even
# pkg-config. make installs what they need (tools/install-deps.sh GROUP...),
# then runs itself again with DEPS_INSTALLED=1 for the work: the library
# flags below are asked of pkg-config when make reads this file, so that
# must happen only once the packages are there.
SETUP_GROUP_run        := build
SETUP_GROUP_bench      := bench
SETUP_GROUP_fuzz       := fuzz
SETUP_GROUP_fuzz-build := fuzz
SETUP_GROUP_fuzz-one   := fuzz
SETUP_GROUP_fuzz-smoke := fuzz
SETUP_GROUP_test       := test
SETUP_GROUP_unit       := test
SETUP_GROUP_e2e        := test
SETUP_GROUP_e2e-tsan   := test
SETUP_GROUP_lint       := test
SETUP_GROUP_soak       := test
SETUP_GROUP_valgrind   := test
SETUP_GROUP_deps       := test
setup_goals := $(if $(DEPS_INSTALLED),,$(foreach g,$(MAKECMDGOALS),$(if $(SETUP_GROUP_$(g)),$(g))))

ifneq ($(setup_goals),)

.PHONY: $(MAKECMDGOALS)
$(firstword $(MAKECMDGOALS)):
	@sh tools/install-deps.sh $(sort $(foreach g,$(setup_goals),$(SETUP_GROUP_$(g))))
	@$(MAKE) --no-print-directory DEPS_INSTALLED=1 $(MAKECMDGOALS)
$(filter-out $(firstword $(MAKECMDGOALS)),$(MAKECMDGOALS)):
	@:

else

# pkg-config module = the Debian package that provides it, for the one line
# a missing library gets instead of a linker error.
LIBRARIES := yaml-0.1=libyaml-dev libcares=libc-ares-dev libpcre2-8=libpcre2-dev \
	libssl=libssl-dev libcrypto=libssl-dev libnghttp2=libnghttp2-dev
PKGS      := $(foreach l,$(LIBRARIES),$(firstword $(subst =, ,$(l))))
CC        ?= cc
CSTD      := -std=c11 -D_GNU_SOURCE
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS_RELEASE := -O2 -g
CFLAGS_ASAN    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -DPORTICO_DEBUG

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS       := $(PKG_LIBS) -lpthread -lm

SRCS      := $(shell find src -name '*.c' | sort)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
UNIT_SRCS := $(shell find tests/unit -name '*.c' 2>/dev/null | sort)

define objs
$(patsubst %.c,build/$(1)/obj/%.o,$(2))
endef

.PHONY: all release asan test unit e2e run deps clean format lint bench fuzz libraries criterion

all: release

release: build/release/portico
asan: build/asan/portico build/asan/unit-tests

# Every compile waits for this check (order-only: it never makes an object
# out of date), so a missing library is one line naming its package.
libraries:
	@command -v pkg-config >/dev/null || { \
		echo "pkg-config is not installed: make deps installs it (Debian package pkg-config)"; exit 1; }
	@rc=0; for l in $(LIBRARIES); do pkg-config --exists "$${l%%=*}" || { rc=1; \
		echo "library $${l%%=*} is not installed: make deps installs it (Debian package $${l#*=})"; }; \
	done; exit $$rc

build/release/obj/%.o: %.c | libraries
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS_RELEASE) $(PKG_CFLAGS) -Isrc -MMD -MP -c $< -o $@

build/asan/obj/%.o: %.c | libraries
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS_ASAN) $(PKG_CFLAGS) -Isrc -MMD -MP -c $< -o $@

build/release/portico: $(call objs,release,$(SRCS))
	$(CC) -o $@ $^ $(LIBS)
build/asan/portico: $(call objs,asan,$(SRCS))
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(LIBS)

# Criterion unit tests, linked against every module but main.c.
criterion:
	@[ -f /usr/include/criterion/criterion.h ] || { \
		echo "Criterion is not installed: make deps installs it (Debian package libcriterion-dev)"; exit 1; }
build/release/unit-tests: $(call objs,release,$(LIB_SRCS) $(UNIT_SRCS)) | criterion
	$(CC) -o $@ $^ $(LIBS) -lcriterion
build/asan/unit-tests: $(call objs,asan,$(LIB_SRCS) $(UNIT_SRCS)) | criterion
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(LIBS) -lcriterion

# Installing is done by the first pass above; here it has happened.
deps:
	@echo "deps: installed"

unit: build/release/unit-tests build/asan/unit-tests
	build/release/unit-tests --jobs=2
	ASAN_OPTIONS=detect_leaks=1 build/asan/unit-tests --jobs=2

# End-to-end: the real binary against scripted backends, normal then sanitized.
e2e: build/release/portico build/asan/portico
	PORTICO_BIN=build/release/portico $(PY) -m pytest -q tests/e2e
	PORTICO_BIN=build/asan/portico $(PY) -m pytest -q tests/e2e

# Everything CI runs: unit and end-to-end tests (normal and ASan+UBSan), the
# multi-worker end-to-end tests under TSan, static analysis, and a short run
# of every fuzz target.
test: unit e2e e2e-tsan lint fuzz-smoke

# Side by side with nginx and HAProxy (bench/matrix.py); the report goes to
# bench/results/. ROUNDS, SECONDS_PER_RUN, WORKERS and ONLY tune it.
bench: build/release/portico
	$(PY) bench/matrix.py

run: build/release/portico
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

endif
