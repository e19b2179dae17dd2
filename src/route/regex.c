#define PCRE2_CODE_UNIT_WIDTH 8
#include "route/regex.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct regex {
	pcre2_code *code; /* owned */
};

static pthread_key_t match_data_key;
static pthread_once_t match_data_once = PTHREAD_ONCE_INIT;

static void match_data_free(void *md)
{
	pcre2_match_data_free(md);
}

static void match_data_key_init(void)
{
	if (pthread_key_create(&match_data_key, match_data_free) != 0)
		abort();
}

/* This thread's match data, created on its first match; NULL on OOM. */
static pcre2_match_data *thread_match_data(void)
{
	pthread_once(&match_data_once, match_data_key_init);
	pcre2_match_data *md = pthread_getspecific(match_data_key);
	if (!md) {
		md = pcre2_match_data_create(REGEX_MAX_CAPTURES, NULL);
		if (md && pthread_setspecific(match_data_key, md) != 0) {
			pcre2_match_data_free(md);
			md = NULL;
		}
	}
	return md;
}

struct regex *regex_new(const char *pattern, char *err, size_t err_size, size_t *err_offset)
{
	int code;
	PCRE2_SIZE offset = 0;
	pcre2_code *compiled = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code,
					     &offset, NULL);

	if (!compiled) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		snprintf(err, err_size, "%s", (const char *)msg);
		*err_offset = offset;
		return NULL;
	}
	/* JIT is an optimisation: without it pcre2_match interprets. */
	(void)pcre2_jit_compile(compiled, PCRE2_JIT_COMPLETE);
	struct regex *re = malloc(sizeof(*re));
	if (!re) {
		pcre2_code_free(compiled);
		snprintf(err, err_size, "out of memory");
		*err_offset = 0;
		return NULL;
	}
	re->code = compiled;
	return re;
}

void regex_free(struct regex *re)
{
	if (!re)
		return;
	pcre2_code_free(re->code);
	free(re);
}

int regex_match(const struct regex *re, struct slice subject, struct slice *captures,
		size_t max_captures)
{
	pcre2_match_data *md = thread_match_data();
	if (!md)
		return PCRE2_ERROR_NOMEMORY;
	int rc = pcre2_match(re->code, (PCRE2_SPTR)(subject.ptr ? subject.ptr : ""), subject.len, 0, 0,
			     md, NULL);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return rc;
	if (rc == 0) /* more groups than the ovector holds */
		rc = REGEX_MAX_CAPTURES;
	size_t n = (size_t)rc < max_captures ? (size_t)rc : max_captures;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	for (size_t i = 0; i < n; i++) {
		if (ov[2 * i] == PCRE2_UNSET)
			captures[i] = SLICE_NULL;
		else
			captures[i] = slice_make(subject.ptr + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
	}
	return (int)(n ? n : 1);
}
