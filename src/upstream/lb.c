#include "upstream/lb.h"

#include <stddef.h>

static const struct lb_ops *const lb_registry[] = {
	[LB_ROUND_ROBIN] = &lb_round_robin,
};

const struct lb_ops *lb_find(enum lb_algorithm algorithm)
{
	if ((size_t)algorithm >= sizeof(lb_registry) / sizeof(lb_registry[0]))
		return NULL;
	return lb_registry[algorithm];
}
