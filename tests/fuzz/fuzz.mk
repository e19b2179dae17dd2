# Fuzzing with libFuzzer (clang), included by the top-level Makefile.
#
#   make fuzz-build                  build every target into build/fuzz/
#   make fuzz [FUZZ_SECONDS=60]      run each target in turn on a copy of its
#                                    corpus (build/fuzz/corpus/<target>)
#   make fuzz-smoke [FUZZ_SMOKE_SECONDS=30]
#                                    CI: replay tests/fuzz/regressions/, then
#                                    run each target briefly; any finding fails
#   make fuzz-one FUZZ_TARGET=fuzz_request [FUZZ_SECONDS=...]
#
# Findings go to build/fuzz/artifacts/<target>/. The committed corpus in
# tests/fuzz/corpus/ only changes when someone copies inputs into it.
# Every variable here starts with FUZZ_ so nothing clashes with the
# top-level Makefile.

FUZZ_CC       ?= clang
FUZZ_DIR      := tests/fuzz
FUZZ_OUT      := build/fuzz
FUZZ_TARGETS  := fuzz_request fuzz_response fuzz_chunked fuzz_config fuzz_downstream
FUZZ_SECONDS  ?= 60
FUZZ_SMOKE_SECONDS ?= 30
FUZZ_JOBS_FLAGS ?=
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS   := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) \
		 -DPORTICO_DEBUG -Isrc $(PKG_CFLAGS)
FUZZ_LIBS     := $(PKG_LIBS) -lpthread -lm
FUZZ_LIB_SRCS := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_BINS     := $(addprefix $(FUZZ_OUT)/,$(FUZZ_TARGETS))
# libFuzzer options common to every run
FUZZ_RUN_FLAGS := -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=16384

.PHONY: fuzz-build fuzz fuzz-smoke fuzz-one fuzz-clean

fuzz-build: $(FUZZ_BINS)

# src objects: instrumented for coverage, no fuzzer main
$(FUZZ_OUT)/obj/src/%.o: src/%.c | libraries
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_OUT)/obj/$(FUZZ_DIR)/%.o: $(FUZZ_DIR)/%.c | libraries
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Wno-unused-parameter -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_OUT)/fuzz_%: $(FUZZ_OUT)/obj/$(FUZZ_DIR)/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

# keep the objects make would otherwise treat as intermediate and delete
.SECONDARY: $(FUZZ_LIB_OBJS) $(patsubst %,$(FUZZ_OUT)/obj/$(FUZZ_DIR)/%.o,$(FUZZ_TARGETS))

# The dictionary for a target: yaml.dict for the configuration, http.dict
# for the rest.
fuzz_dict = $(FUZZ_DIR)/$(if $(filter fuzz_config,$(1)),yaml,http).dict

# $(call fuzz_run,TARGET,SECONDS): run one target on its working corpus.
define fuzz_run
	@mkdir -p $(FUZZ_OUT)/corpus/$(1) $(FUZZ_OUT)/artifacts/$(1) $(FUZZ_OUT)/logs
	@cp -n $(FUZZ_DIR)/corpus/$(1)/* $(FUZZ_OUT)/corpus/$(1)/ 2>/dev/null || true
	@echo "== $(1): $(2)s"
	@$(FUZZ_OUT)/$(1) $(FUZZ_RUN_FLAGS) $(FUZZ_JOBS_FLAGS) -max_total_time=$(2) \
		-dict=$(call fuzz_dict,$(1)) \
		-artifact_prefix=$(FUZZ_OUT)/artifacts/$(1)/ \
		$(FUZZ_OUT)/corpus/$(1) > $(FUZZ_OUT)/logs/$(1).log 2>&1 \
		|| { tail -n 60 $(FUZZ_OUT)/logs/$(1).log; echo "FINDING in $(1): see $(FUZZ_OUT)/artifacts/$(1)/"; exit 1; }
	@grep -h 'stat::number_of_executed_units\|stat::peak_rss_mb' $(FUZZ_OUT)/logs/$(1).log \
		| sed 's/^/   $(1) /'

endef

# Replays every saved regression input of one target (a libFuzzer binary
# given files runs each once).
define fuzz_replay
	@if ls $(FUZZ_DIR)/regressions/$(1)/* >/dev/null 2>&1; then \
		echo "== $(1): replaying regressions"; \
		$(FUZZ_OUT)/$(1) -runs=1 $(FUZZ_DIR)/regressions/$(1)/* > $(FUZZ_OUT)/logs/$(1).replay.log 2>&1 \
		|| { tail -n 60 $(FUZZ_OUT)/logs/$(1).replay.log; echo "REGRESSION in $(1)"; exit 1; }; \
	fi

endef

fuzz: fuzz-build
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t),$(FUZZ_SECONDS)))

fuzz-one: fuzz-build
	$(call fuzz_run,$(FUZZ_TARGET),$(FUZZ_SECONDS))

fuzz-smoke: fuzz-build
	@mkdir -p $(FUZZ_OUT)/logs
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_replay,$(t)))
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t),$(FUZZ_SMOKE_SECONDS)))

fuzz-clean:
	rm -rf $(FUZZ_OUT)
