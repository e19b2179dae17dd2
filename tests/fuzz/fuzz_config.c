/*
 * fuzz_config: config_load_buffer on the input as YAML.
 *
 * Whatever the text, loading must either return a snapshot with no error
 * or NULL with at least one error, and everything must be freed again
 * (leak detection stays on). Name lookups are disabled: a host name in an
 * address or a `dns:` upstream is a configuration error here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "log/log.h"
#include "net/resolver.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERROR);
	resolver_disable(); /* the fuzzer must not send lookups anywhere */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct proxy_config *cfg =
		config_load_buffer("fuzz.yaml", (const char *)data, size, "/nonexistent", &errs);

	if (cfg && errs.count) {
		fprintf(stderr, "fuzz_config: snapshot returned with %zu errors\n", errs.count);
		abort();
	}
	if (!cfg && !errs.count) {
		fprintf(stderr, "fuzz_config: NULL returned without an error\n");
		abort();
	}
	for (size_t i = 0; i < errs.count; i++)
		if (!errs.messages[i])
			abort();
	config_free(cfg);
	config_errors_deinit(&errs);
	return 0;
}
