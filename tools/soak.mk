# make soak: 10 minutes of mixed traffic through portico (tools/soak.py).
# Not part of `make test`. SOAK_SECONDS and SOAK_BIN override the defaults.
SOAK_SECONDS ?= 600
SOAK_BIN ?= build/release/portico

.PHONY: soak
soak: $(SOAK_BIN)
	$(PY) tools/soak.py --seconds $(SOAK_SECONDS) --bin $(SOAK_BIN)
