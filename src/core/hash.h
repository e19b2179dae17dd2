/*
 * hash: a fast 64-bit non-cryptographic hash for balancer keys and server
 * names (MurmurHash64A's construction: 8 bytes per multiply-xorshift round,
 * then a full avalanche of the result, so the low bits are as good as the
 * high ones and `hash % M` is fair).
 *
 * Not for anything an attacker must not steer: a client choosing its own
 * key can choose its server anyway. Rejected: FNV-1a alone (one byte per
 * multiply, weak low bits for short keys); xxhash (a library for 40 lines).
 */
#ifndef PORTICO_CORE_HASH_H
#define PORTICO_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HASH_M 0xc6a4a7935bd1e995ULL

/* A bijective finaliser: every input bit affects every output bit. */
static inline uint64_t hash_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* The hash of len bytes at p under seed; any thread, no state. */
static inline uint64_t hash_bytes(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = seed ^ ((uint64_t)len * HASH_M);

	for (; len >= 8; b += 8, len -= 8) {
		uint64_t k;
		memcpy(&k, b, 8);
		k *= HASH_M;
		k ^= k >> 47;
		k *= HASH_M;
		h ^= k;
		h *= HASH_M;
	}
	if (len) {
		uint64_t k = 0;
		memcpy(&k, b, len);
		h ^= k;
		h *= HASH_M;
	}
	return hash_mix64(h);
}

#endif
