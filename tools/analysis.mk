# Static and dynamic analysis, included by the top-level Makefile
# (docs/analysis.md says what each target checks and why checks are off).
#
#   make lint        clang-tidy (.clang-tidy) and cppcheck over src/; any finding fails
#   make e2e-tsan    the multi-worker end-to-end tests against a ThreadSanitizer build
#   make valgrind    the unit tests under valgrind memcheck, leaks included

CLANG_TIDY ?= clang-tidy
CPPCHECK   ?= cppcheck
VALGRIND   ?= valgrind
LINT_JOBS  ?= $(shell nproc 2>/dev/null || echo 2)

# What the analysers compile with: the build's language and warning flags
# (without -Werror: clang-tidy reports compiler warnings as findings itself).
LINT_CFLAGS := $(CSTD) $(filter-out -Werror,$(WARN)) $(PKG_CFLAGS) -Isrc

CPPCHECK_FLAGS := --quiet --std=c11 -D_GNU_SOURCE -Isrc \
	--enable=warning,style,performance,portability --inconclusive \
	--library=posix --inline-suppr \
	--suppressions-list=tools/cppcheck-suppressions.txt \
	--error-exitcode=1 -j $(LINT_JOBS) \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]'

.PHONY: lint lint-tidy lint-cppcheck e2e-tsan tsan valgrind

# Both analysers always run; the target fails if either found anything.
lint:
	@rc=0; \
	$(MAKE) --no-print-directory lint-tidy || rc=1; \
	$(MAKE) --no-print-directory lint-cppcheck || rc=1; \
	if [ $$rc -eq 0 ]; then echo "lint: clean"; else echo "lint: findings above"; fi; \
	exit $$rc

# One clang-tidy per translation unit, in parallel; a unit's output is shown
# only when it has findings (the "N warnings generated" chatter is dropped).
lint-tidy:
	@echo "clang-tidy: $(words $(SRCS)) files"
	@printf '%s\n' $(SRCS) | xargs -P $(LINT_JOBS) -I{} sh -c \
		'out=$$($(CLANG_TIDY) --quiet "$$1" -- $(LINT_CFLAGS) 2>&1) && exit 0; \
		 printf "%s\n" "$$out" | grep -v "warnings* generated\.$$"; exit 1' sh {}

lint-cppcheck:
	@echo "cppcheck: src/"
	@$(CPPCHECK) $(CPPCHECK_FLAGS) src

# --- ThreadSanitizer ---------------------------------------------------------
# Same sources as the release binary, objects under build/tsan/obj.
CFLAGS_TSAN := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
TSAN_OPTIONS_E2E := halt_on_error=1 second_deadlock_stack=1
# Every e2e file but the harness self-test (00) and the command-line tests
# (01, one-shot runs and hand-written workers: 1 configs); their configs come
# from make_config(), which takes the worker count from PORTICO_TEST_WORKERS.
E2E_TSAN_TESTS ?= $(filter-out tests/e2e/test_00_% tests/e2e/test_01_%,\
	$(sort $(wildcard tests/e2e/test_*.py)))
# Tests that assume a single worker: one round-robin sequence (or retry
# budget) across connections, one access-log ring (lines in request order),
# one worker's bounded-load count for a hashed key. And the rapid-reset
# memory bound: under TSan the process's RSS is mostly TSan's own memory,
# which grows in ~10 MB steps over the first attacks before it levels off
# (42 -> 65 MB over eight attacks, where the release build stays at 6.3-7 MB);
# the release and ASan runs check that bound.
E2E_TSAN_DESELECT ?= \
	tests/e2e/test_26_http2.py::test_rapid_reset_memory_stays_flat \
	tests/e2e/test_02_proxy_basics.py::test_round_robin_across_connections \
	tests/e2e/test_07_lifecycle.py::test_access_log_json \
	tests/e2e/test_07_lifecycle.py::test_access_log_logs_errors_too \
	tests/e2e/test_14_failover.py::test_post_sent_then_reset_is_not_retried \
	tests/e2e/test_14_failover.py::test_retry_budget_caps_retries \
	tests/e2e/test_12_balancing.py::test_hash_bounded_load_spills_a_hot_key

build/tsan/obj/%.o: %.c | libraries
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS_TSAN) $(PKG_CFLAGS) -Isrc -MMD -MP -c $< -o $@

build/tsan/portico: $(call objs,tsan,$(SRCS))
	$(CC) $(CFLAGS_TSAN) -o $@ $^ $(LIBS)

tsan: build/tsan/portico

e2e-tsan: build/tsan/portico
	PORTICO_BIN=build/tsan/portico PORTICO_TEST_WORKERS=2 \
	TSAN_OPTIONS="$(TSAN_OPTIONS_E2E)" \
	$(PY) -m pytest -q $(E2E_TSAN_TESTS) $(addprefix --deselect ,$(E2E_TSAN_DESELECT))

# --- valgrind ----------------------------------------------------------------
# Criterion runs each test in a child process it executes afresh from the test
# binary, so valgrind must follow children (--trace-children=yes); --jobs=1
# runs one at a time. A child's own --error-exitcode is lost (Criterion has
# the test's result before the child exits and counts leaks), so every
# process logs to its own file and any non-empty log (--quiet: errors only)
# fails the target. The binary is copied first: a rebuild of
# build/release/unit-tests during the run would crash the children.
# About one second per test under valgrind: a few minutes in all.
VALGRIND_UNIT  ?= build/release/unit-tests
VALGRIND_DIR   := build/valgrind
VALGRIND_FLAGS := --quiet --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect,possible \
	--show-leak-kinds=definite,indirect,possible \
	--trace-children=yes --log-file=$(VALGRIND_DIR)/%p.log

valgrind: $(VALGRIND_UNIT)
	@rm -rf $(VALGRIND_DIR) && mkdir -p $(VALGRIND_DIR)
	@cp $(VALGRIND_UNIT) $(VALGRIND_DIR)/unit-tests
	@rc=0; \
	echo "$(VALGRIND) $(VALGRIND_FLAGS) $(VALGRIND_DIR)/unit-tests --jobs=1"; \
	$(VALGRIND) $(VALGRIND_FLAGS) $(VALGRIND_DIR)/unit-tests --jobs=1 || rc=1; \
	bad=$$(find $(VALGRIND_DIR) -name '*.log' -size +0c | sort); \
	for f in $$bad; do echo "--- $$f"; cat "$$f"; done; \
	[ -z "$$bad" ] || rc=1; \
	n=$$(find $(VALGRIND_DIR) -name '*.log' | wc -l); \
	if [ $$rc -eq 0 ]; then echo "valgrind: clean ($$n processes)"; \
	else echo "valgrind: errors (logs in $(VALGRIND_DIR)/)"; fi; \
	exit $$rc
