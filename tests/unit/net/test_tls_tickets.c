#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/clock.h"
#include "net/tls_tickets.h"

/* Runs the ticket callback once: encrypt (making a ticket under name) or
 * decrypt (looking name up). Returns what the callback returned. */
static int run_cb(unsigned char name[16], int encrypt)
{
	unsigned char iv[EVP_MAX_IV_LENGTH] = { 0 };
	EVP_CIPHER_CTX *cipher = EVP_CIPHER_CTX_new();
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *mac = EVP_MAC_CTX_new(hmac);

	cr_assert(cipher && mac);
	int rc = tls_tickets_cb(NULL, name, iv, cipher, mac, encrypt);
	EVP_MAC_CTX_free(mac);
	EVP_MAC_free(hmac);
	EVP_CIPHER_CTX_free(cipher);
	return rc;
}

Test(tls_tickets, issued_tickets_are_accepted_then_renewed_then_refused)
{
	unsigned char name[16];
	uint64_t now = clock_monotonic_ms() / 1000;

	cr_assert_eq(run_cb(name, 1), 1);
	cr_expect_eq(run_cb(name, 0), 1, "the current key decrypts");
	cr_expect_eq(tls_tickets_rotate_if_due(now), 0, "not due yet");
	cr_assert_eq(tls_tickets_rotate_if_due(now + TLS_TICKET_ROTATE_S + 1), 1);
	cr_expect_eq(run_cb(name, 0), 2, "the previous key decrypts and asks for a new ticket");
	cr_assert_eq(tls_tickets_rotate_if_due(now + 2 * TLS_TICKET_ROTATE_S + 2), 1);
	cr_expect_eq(run_cb(name, 0), 0, "two rotations later: full handshake");
}

Test(tls_tickets, unknown_names_mean_a_full_handshake)
{
	unsigned char name[16];

	memset(name, 0xab, sizeof(name));
	cr_expect_eq(run_cb(name, 0), 0);
}
