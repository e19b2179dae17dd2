/*
 * resolver: DNS lookups for upstream discovery (`dns:`), through c-ares —
 * the only file that includes <ares.h>. Lookups are asked of the system's
 * resolvers (/etc/resolv.conf) or of one given server ("IP:PORT", the
 * top-level `resolver:` key), which is also how tests point portico at a
 * resolver of their own on a loopback port.
 *
 * Called from the main thread only (startup, reload, periodic refresh); a
 * lookup waits at most timeout_ms. Workers never resolve.
 */
#ifndef PORTICO_NET_RESOLVER_H
#define PORTICO_NET_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

/*
 * Resolves host (A and AAAA records) into up to max addresses with the
 * given port, sorted so that equal answers compare equal. Returns how many
 * (> 0), or -1 with *why set to a static message.
 */
int resolver_lookup(const char *host, uint16_t port, const char *server, uint64_t timeout_ms,
		    struct addr *out, size_t max, const char **why);

/*
 * Turns every name lookup (this module's and addr_parse's) into an
 * immediate "resolution disabled" failure: for fuzzing and tests, which
 * must send nothing to the system's resolvers. Call before any thread.
 */
void resolver_disable(void);
bool resolver_enabled(void);

/* The c-ares version, for --version. */
const char *resolver_version(void);

#endif
