#include "proxy/head_writer.h"

#include "proxy/vars.h"

void hw_u64(struct head_writer *hw, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do { /* by hand: snprintf costs more than the rest of a head */
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	hw_bytes(hw, tmp + i, sizeof(tmp) - i);
}

void hw_route_value(struct head_writer *hw, struct slice name, const char *value,
		    const struct vars *vars)
{
	char expanded[HW_FIELD_VALUE_MAX];
	struct slice v = slice_from_cstr(value);

	if (vars && vars_present(value)) {
		size_t n = vars_expand(value, vars, expanded, sizeof(expanded));
		if (n == (size_t)-1)
			return;
		v = slice_make(expanded, n);
	}
	if (v.len)
		hw_header(hw, name, v);
}
