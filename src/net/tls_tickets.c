#include "net/tls_tickets.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/clock.h"

struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
	uint64_t born_s;
	bool set;
};

/* keys[0] issues tickets, keys[1] only accepts them */
static struct ticket_key keys[2];
static pthread_rwlock_t keys_lock = PTHREAD_RWLOCK_INITIALIZER;

static bool key_due(uint64_t now_s)
{
	return !keys[0].set || (int64_t)(now_s - keys[0].born_s) >= TLS_TICKET_ROTATE_S;
}

int tls_tickets_rotate_if_due(uint64_t now_s)
{
	struct ticket_key fresh = { .born_s = now_s, .set = true };
	int rotated = 0;

	pthread_rwlock_rdlock(&keys_lock);
	bool due = key_due(now_s);
	pthread_rwlock_unlock(&keys_lock);
	if (!due)
		return 0;
	if (RAND_bytes(fresh.name, sizeof(fresh.name)) != 1 ||
	    RAND_bytes(fresh.aes, sizeof(fresh.aes)) != 1 ||
	    RAND_bytes(fresh.hmac, sizeof(fresh.hmac)) != 1)
		return -1;
	pthread_rwlock_wrlock(&keys_lock);
	if (key_due(now_s)) { /* another thread may have rotated meanwhile */
		keys[1] = keys[0];
		keys[0] = fresh;
		rotated = 1;
	}
	pthread_rwlock_unlock(&keys_lock);
	OPENSSL_cleanse(&fresh, sizeof(fresh));
	return rotated;
}

/* Copies the key named name into *k; returns its slot or -1. */
static int find_key(const unsigned char name[16], struct ticket_key *k)
{
	int slot = -1;

	pthread_rwlock_rdlock(&keys_lock);
	for (int i = 0; i < 2 && slot < 0; i++) {
		if (keys[i].set && memcmp(keys[i].name, name, sizeof(keys[i].name)) == 0) {
			*k = keys[i];
			slot = i;
		}
	}
	pthread_rwlock_unlock(&keys_lock);
	return slot;
}

/* Returns 1 (ticket made / accepted), 2 (accepted, issue a fresh one:
 * for an older key, and always in TLS 1.3, as clients use a ticket once),
 * 0 (unknown key: full handshake) or -1 (failure), as OpenSSL expects. */
int tls_tickets_cb(SSL *ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
		   EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, int encrypt)
{
	struct ticket_key k;
	int slot = 0;

	if (encrypt) {
		if (tls_tickets_rotate_if_due(clock_monotonic_ms() / 1000) < 0)
			return -1;
		pthread_rwlock_rdlock(&keys_lock);
		k = keys[0];
		pthread_rwlock_unlock(&keys_lock);
		if (RAND_bytes(iv, 16) != 1)
			return -1;
		memcpy(name, k.name, sizeof(k.name));
	} else if ((slot = find_key(name, &k)) < 0) {
		return 0;
	}
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof(k.hmac)),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	int ok = EVP_MAC_CTX_set_params(mac, params) &&
		 EVP_CipherInit_ex(cipher, EVP_aes_256_cbc(), NULL, k.aes, iv, encrypt);
	OPENSSL_cleanse(&k, sizeof(k));
	if (!ok)
		return -1;
	/* TLS 1.3 tickets are best used once: always issue a fresh one */
	if (slot == 0 && !(ssl && SSL_version(ssl) == TLS1_3_VERSION))
		return 1;
	return encrypt ? 1 : 2;
}
