/* Receipts: the signed bytes are the RFC 8785 form docs/receipts.md gives, the
 * signer recovers to the key's known address, parsing is strict, and a chain
 * check names the first tampered, missing or reordered receipt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "crypto/secp256k1.h"
#include "lib/hex.h"
#include "receipt.h"

/* web3.js documentation's example key and its address. */
static const char key_hex[] = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
static const char key_addr[] = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";

static void key_and_addr(uint8_t key[32], uint8_t addr[20])
{
	size_t n;
	uint8_t a[20];
	assert_int_equal(tb_hex_decode(key_hex, 64, key, 32, &n, NULL), 0);
	assert_int_equal(tb_hex_decode(key_addr + 2, 40, a, 20, &n, NULL), 0);
	memcpy(addr, a, 20);
}

static void fill(struct tb_receipt *r, uint64_t seq)
{
	memset(r, 0, sizeof *r);
	r->seq = seq;
	snprintf(r->record, sizeof r->record, "sha256:%064llu", (unsigned long long)seq);
	strcpy(r->source_network, "pe-cadena");
	snprintf(r->source_locator, sizeof r->source_locator, "0xabc:%llu", (unsigned long long)seq);
	strcpy(r->verdict, "VALID");
	strcpy(r->destination, "cl-registry");
	strcpy(r->txref, "0x1234");
	strcpy(r->status, "confirmed");
	strcpy(r->time, "2026-11-22T10:00:00Z");
}

static void signing_bytes_are_jcs_in_documented_order(void **state)
{
	(void)state;
	struct tb_receipt r;
	struct tb_buf b;
	struct tb_error err;
	fill(&r, 1);
	strcpy(r.record, "sha256:ab");
	strcpy(r.source_locator, "0xabc:0");
	tb_buf_init(&b, 0);
	assert_int_equal(tb_receipt_signing_bytes(&r, &b, &err), 0);
	/* Members sorted by code unit, no whitespace, as RFC 8785 section 3.2 says. */
	assert_string_equal((char *)b.data,
		"{\"destination\":{\"network\":\"cl-registry\",\"status\":\"confirmed\","
		"\"txref\":\"0x1234\"},\"prev\":\"0x0000000000000000000000000000000000000000000000"
		"000000000000000000\",\"record\":\"sha256:ab\",\"schema\":\"tradebridge-receipt/1\","
		"\"seq\":1,\"source\":{\"locator\":\"0xabc:0\",\"network\":\"pe-cadena\","
		"\"verdict\":\"VALID\"},\"time\":\"2026-11-22T10:00:00Z\"}");
	tb_buf_fini(&b);
}

/* A rejection's reason sits in "destination" between "network" and "status" (RFC 8785
 * order); the receipt round-trips; an empty or over-long reason is refused. */
static void rejection_reason_signed_and_strict(void **state)
{
	(void)state;
	uint8_t key[32], addr[20], got[20];
	struct tb_receipt r, back;
	struct tb_buf b;
	struct tb_error err;
	key_and_addr(key, addr);
	fill(&r, 2);
	strcpy(r.status, "rejected");
	strcpy(r.reason, "CUSRES: item 3: tariff code 9999.99 unknown");
	tb_buf_init(&b, 0);
	assert_int_equal(tb_receipt_signing_bytes(&r, &b, &err), 0);
	assert_non_null(strstr((char *)b.data, "{\"destination\":{\"network\":\"cl-registry\","
	                       "\"reason\":\"CUSRES: item 3: tariff code 9999.99 unknown\","
	                       "\"status\":\"rejected\",\"txref\":\"0x1234\"},"));
	tb_buf_reset(&b);
	assert_int_equal(tb_receipt_sign(&r, key, &err), 0);
	assert_int_equal(tb_receipt_signer(&r, got, &err), 0);
	assert_memory_equal(got, addr, 20);
	assert_int_equal(tb_receipt_write(&r, &b, &err), 0);
	assert_int_equal(tb_receipt_parse((char *)b.data, b.len, &back, &err), 0);
	assert_memory_equal(&r, &back, sizeof r);
	char text[4096], *at = strstr((char *)b.data, "\"reason\":\"");
	assert_non_null(at);
	snprintf(text, sizeof text, "%.*s\"reason\":\"\"%s", (int)(at - (char *)b.data),
	         (char *)b.data, strchr(at + 10, '"') + 1);
	assert_int_equal(tb_receipt_parse(text, strlen(text), &back, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "\"reason\" is present but empty"));
	char longer[300];
	memset(longer, 'x', 256);
	longer[256] = 0;
	snprintf(text, sizeof text, "%.*s\"reason\":\"%s\"%s", (int)(at - (char *)b.data),
	         (char *)b.data, longer, strchr(at + 10, '"') + 1);
	assert_int_equal(tb_receipt_parse(text, strlen(text), &back, &err), TB_EINVAL);
	assert_non_null(strstr(err.msg, "\"reason\" longer than 255 bytes"));
	tb_buf_fini(&b);
}

static void signature_recovers_to_key_address(void **state)
{
	(void)state;
	uint8_t key[32], addr[20], got[20];
	struct tb_receipt r;
	struct tb_error err;
	key_and_addr(key, addr);
	fill(&r, 7);
	assert_int_equal(tb_receipt_sign(&r, key, &err), 0);
	assert_true(r.sig[64] == 27 || r.sig[64] == 28);
	assert_int_equal(tb_receipt_signer(&r, got, &err), 0);
	assert_memory_equal(got, addr, 20);
}

static void parse_round_trip_and_strictness(void **state)
{
	(void)state;
	uint8_t key[32], addr[20];
	struct tb_receipt r, back;
	struct tb_buf b;
	struct tb_error err;
	key_and_addr(key, addr);
	fill(&r, 3);
	assert_int_equal(tb_receipt_sign(&r, key, &err), 0);
	tb_buf_init(&b, 0);
	assert_int_equal(tb_receipt_write(&r, &b, &err), 0);
	assert_int_equal(tb_receipt_parse((char *)b.data, b.len, &back, &err), 0);
	assert_memory_equal(&r, &back, sizeof r);

	static const char *const bad[] = {
		"{}",
		"[]",
		"{\"destination\":{\"network\":\"b\",\"status\":\"c\",\"txref\":\"t\"},\"extra\":1}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(tb_receipt_parse(bad[i], strlen(bad[i]), &back, &err), TB_EINVAL);
	/* each replacement of one member's value with a wrong one is refused */
	static const char *const swaps[][2] = {
		{"\"seq\":3", "\"seq\":3.5"},   {"\"seq\":3", "\"seq\":0"},
		{"\"seq\":3", "\"seq\":\"3\""}, {"\"seq\":3", "\"seq\":9007199254740992"},
		{"\"schema\":\"tradebridge-receipt/1\"", "\"schema\":\"other/1\""},
		{"\"prev\":\"0x", "\"prev\":\"0xzz"},
		{"\"status\":\"confirmed\"", "\"status\":7"},
		{"\"verdict\":\"VALID\"", "\"verdict\":\"VALID\",\"x\":1"},
	};
	for (size_t i = 0; i < sizeof swaps / sizeof swaps[0]; i++) {
		char text[4096];
		const char *at = strstr((char *)b.data, swaps[i][0]);
		assert_non_null(at);
		size_t head = (size_t)(at - (char *)b.data);
		snprintf(text, sizeof text, "%.*s%s%s", (int)head, (char *)b.data, swaps[i][1],
		         at + strlen(swaps[i][0]));
		assert_int_not_equal(tb_receipt_parse(text, strlen(text), &back, &err), 0);
	}
	tb_buf_fini(&b);
	/* at the size limit */
	char big[TB_RECEIPT_MAX_BYTES + 16];
	memset(big, ' ', sizeof big);
	big[0] = '{';
	big[sizeof big - 2] = '}';
	assert_int_not_equal(tb_receipt_parse(big, sizeof big - 1, &back, &err), 0);
}

static void make_chain(struct tb_receipt *rs, size_t n, const uint8_t key[32])
{
	struct tb_error err;
	uint8_t prev[32] = {0};
	for (size_t i = 0; i < n; i++) {
		fill(&rs[i], i + 1);
		memcpy(rs[i].prev, prev, 32);
		assert_int_equal(tb_receipt_sign(&rs[i], key, &err), 0);
		assert_int_equal(tb_receipt_hash(&rs[i], prev, &err), 0);
	}
}

static void chain_names_first_bad_receipt(void **state)
{
	(void)state;
	uint8_t key[32], addr[20];
	struct tb_receipt rs[6], t[6];
	struct tb_error err;
	size_t bad = 99;
	key_and_addr(key, addr);
	make_chain(rs, 6, key);
	assert_int_equal(tb_receipt_verify_chain(rs, 6, addr, NULL, &bad, &err), 0);

	/* a tampered field: the signature no longer recovers to the relay */
	memcpy(t, rs, sizeof rs);
	strcpy(t[2].txref, "0x9999");
	assert_int_equal(tb_receipt_verify_chain(t, 6, addr, NULL, &bad, &err), TB_EVERIFY);
	assert_int_equal(bad, 2);
	assert_non_null(strstr(err.msg, "receipt seq 3:"));

	/* a gap: receipt 3 removed */
	memcpy(t, rs, sizeof rs);
	memmove(&t[2], &t[3], 3 * sizeof t[0]);
	assert_int_equal(tb_receipt_verify_chain(t, 5, addr, NULL, &bad, &err), TB_EVERIFY);
	assert_int_equal(bad, 2);
	assert_non_null(strstr(err.msg, "receipt seq 4: expected seq 3"));

	/* reordered: 2 and 3 swapped */
	memcpy(t, rs, sizeof rs);
	t[1] = rs[2];
	t[2] = rs[1];
	assert_int_equal(tb_receipt_verify_chain(t, 6, addr, NULL, &bad, &err), TB_EVERIFY);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(err.msg, "receipt seq 3:"));

	/* re-signed by another key after an edit: caught by the signer check */
	uint8_t other[32];
	memset(other, 0x11, 32);
	memcpy(t, rs, sizeof rs);
	strcpy(t[4].destination, "elsewhere");
	assert_int_equal(tb_receipt_sign(&t[4], other, &err), 0);
	assert_int_equal(tb_receipt_verify_chain(t, 6, addr, NULL, &bad, &err), TB_EVERIFY);
	assert_int_equal(bad, 4);
	assert_non_null(strstr(err.msg, "not by the relay's key"));

	/* a broken link: receipt 5's prev changed and re-signed with the right key */
	memcpy(t, rs, sizeof rs);
	t[4].prev[0] ^= 1;
	assert_int_equal(tb_receipt_sign(&t[4], key, &err), 0);
	assert_int_equal(tb_receipt_verify_chain(t, 6, addr, NULL, &bad, &err), TB_EVERIFY);
	assert_int_equal(bad, 4);
	assert_non_null(strstr(err.msg, "prev does not match"));

	/* a window starting later verifies on its own, and against a given prev */
	uint8_t h[32];
	assert_int_equal(tb_receipt_verify_chain(&rs[3], 3, addr, NULL, &bad, &err), 0);
	assert_int_equal(tb_receipt_hash(&rs[2], h, &err), 0);
	assert_int_equal(tb_receipt_verify_chain(&rs[3], 3, addr, h, &bad, &err), 0);
	h[0] ^= 1;
	assert_int_equal(tb_receipt_verify_chain(&rs[3], 3, addr, h, &bad, &err), TB_EVERIFY);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signing_bytes_are_jcs_in_documented_order),
		cmocka_unit_test(signature_recovers_to_key_address),
		cmocka_unit_test(rejection_reason_signed_and_strict),
		cmocka_unit_test(parse_round_trip_and_strictness),
		cmocka_unit_test(chain_names_first_bad_receipt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
