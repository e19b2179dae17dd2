/*
 * bug: invariants asserted by name.
 *
 * BUG_ON is always on and aborts with the location: it guards corruption-class
 * invariants where going on would be worse than stopping. DEBUG_CHECK is
 * compiled only in debug builds and is for hot paths.
 */
#ifndef PORTICO_CORE_BUG_H
#define PORTICO_CORE_BUG_H

#include <stdio.h>
#include <stdlib.h>

#define BUG_ON(cond)                                                          \
	do {                                                                  \
		if (__builtin_expect(!!(cond), 0)) {                          \
			fprintf(stderr, "portico: BUG at %s:%d: %s\n",        \
				__FILE__, __LINE__, #cond);                   \
			abort();                                              \
		}                                                             \
	} while (0)

#ifdef PORTICO_DEBUG
#define DEBUG_CHECK(cond) BUG_ON(!(cond))
#else
#define DEBUG_CHECK(cond) ((void)0)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member)                                       \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
