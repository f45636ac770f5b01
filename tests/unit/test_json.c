/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for json: the writer (escaping, numbers, nesting, misuse and overflow detected,
 * never overrun) and the strict reader (RFC 8259 grammar; what it must refuse; lookups and
 * unescaping; node exhaustion and depth limits), plus a writer → reader round trip.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static void test_writer_basic(void **state)
{
	(void)state;
	char buf[256];
	struct json_w w;
	json_w_init(&w, buf, sizeof buf);
	json_w_obj_begin(&w);
	json_w_key(&w, "version"); json_w_int(&w, 1);
	json_w_key(&w, "s"); json_w_str(&w, "a\"b\\c\n\x01");
	json_w_key(&w, "arr");
	json_w_arr_begin(&w);
	json_w_uint(&w, 18446744073709551615ull);
	json_w_int(&w, -5);
	json_w_double(&w, 0.5);
	json_w_double(&w, NAN);
	json_w_bool(&w, true);
	json_w_null(&w);
	json_w_arr_end(&w);
	json_w_key(&w, "o");
	json_w_obj_begin(&w);
	json_w_obj_end(&w);
	json_w_obj_end(&w);
	assert_true(json_w_ok(&w));
	assert_string_equal(buf, "{\"version\":1,\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"arr\":"
				 "[18446744073709551615,-5,0.5,null,true,null],\"o\":{}}");
	assert_int_equal(w.len, strlen(buf));
}

static void test_writer_misuse_and_overflow(void **state)
{
	(void)state;
	char buf[16];
	struct json_w w;
	json_w_init(&w, buf, sizeof buf);
	json_w_obj_begin(&w);
	json_w_int(&w, 1); /* a value without a key */
	json_w_obj_end(&w);
	assert_false(json_w_ok(&w));

	json_w_init(&w, buf, sizeof buf);
	json_w_arr_begin(&w); /* unclosed */
	assert_false(json_w_ok(&w));

	json_w_init(&w, buf, sizeof buf);
	json_w_str(&w, "this string is far too long for sixteen bytes");
	assert_false(json_w_ok(&w));
	assert_true(strlen(buf) < sizeof buf); /* never overrun, always terminated */

	json_w_init(&w, buf, sizeof buf);
	json_w_arr_begin(&w);
	json_w_obj_end(&w); /* wrong closer */
	assert_false(json_w_ok(&w));
}

static void test_double_round_trip(void **state)
{
	(void)state;
	const double vals[] = { 0.1, -1e-300, 1.7976931348623157e308, 123456.789, 2.5e-10 };
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		char buf[64];
		struct json_w w;
		json_w_init(&w, buf, sizeof buf);
		json_w_double(&w, vals[i]);
		assert_true(json_w_ok(&w));
		struct json_node n[4];
		struct json_doc d;
		assert_true(json_parse(&d, buf, strlen(buf), n, 4));
		double v;
		assert_true(json_num(&d, 0, &v));
		assert_true(v == vals[i]);
	}
}

static bool parses(const char *s)
{
	struct json_node n[64];
	struct json_doc d;
	return json_parse(&d, s, strlen(s), n, 64);
}

static void test_reader_accepts(void **state)
{
	(void)state;
	const char *ok[] = {
		"{}", "[]", " { \"a\" : [1, -2.5e+3, 0, 0.0, true, false, null] } \n", "\"x\"", "0",
		"-0", "1E9", "{\"a\":{\"b\":{\"c\":[[]]}}}", "\"\\u00e9\\ud83d\\ude00 \\/\"",
		"\"caf\xc3\xa9\"",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!parses(ok[i]))
			fail_msg("refused valid JSON: %s", ok[i]);
}

static void test_reader_refuses(void **state)
{
	(void)state;
	const char *bad[] = {
		"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5",
		"1e", "+1", "-", "tru", "nul", "\"unterminated", "\"tab\there\"", "\"\\x\"",
		"\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"", "{\"a\":1}{}", "[1] x", "/* c */ 1",
		"{\"a\":1,\"a\":2}", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "NaN",
		"[1 2]", "'single'",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parses(bad[i]))
			fail_msg("accepted invalid JSON: %s", bad[i]);
	/* The error names the offset. */
	struct json_node n[8];
	struct json_doc d;
	assert_false(json_parse(&d, "[1,,2]", 6, n, 8));
	assert_int_equal(d.err_offset, 3);
	assert_true(strstr(d.err, "byte 3") != NULL);
}

static void test_reader_limits(void **state)
{
	(void)state;
	char deep[200];
	size_t k = 0;
	for (int i = 0; i < 40; i++)
		deep[k++] = '[';
	for (int i = 0; i < 40; i++)
		deep[k++] = ']';
	deep[k] = '\0';
	struct json_node n[128];
	struct json_doc d;
	assert_false(json_parse(&d, deep, k, n, 128));
	assert_true(strstr(d.err, "deep") != NULL);
	/* Out of nodes is an error, not an overrun. */
	assert_false(json_parse(&d, "[1,2,3,4,5]", 11, n, 3));
	assert_true(strstr(d.err, "too large") != NULL);
	/* Embedded NUL is not whitespace. */
	assert_false(json_parse(&d, "{}\0", 3, n, 8));
}

static void test_lookup_and_strings(void **state)
{
	(void)state;
	const char *t = "{\"version\":1,\"command\":\"st\\u0061tus\",\"n\":-12,\"f\":1.5,"
			"\"big\":123456789012345678901,\"z\":\"a\\u0000b\",\"list\":[true,null]}";
	struct json_node n[32];
	struct json_doc d;
	assert_true(json_parse(&d, t, strlen(t), n, 32));
	char s[16];
	assert_true(json_str(&d, json_obj_get(&d, 0, "command"), s, sizeof s));
	assert_string_equal(s, "status");
	assert_false(json_str(&d, json_obj_get(&d, 0, "command"), s, 6)); /* does not fit */
	int64_t i;
	assert_true(json_int(&d, json_obj_get(&d, 0, "version"), &i));
	assert_int_equal(i, 1);
	assert_true(json_int(&d, json_obj_get(&d, 0, "n"), &i));
	assert_int_equal(i, -12);
	assert_false(json_int(&d, json_obj_get(&d, 0, "f"), &i));
	assert_false(json_int(&d, json_obj_get(&d, 0, "big"), &i));
	assert_false(json_str(&d, json_obj_get(&d, 0, "z"), s, sizeof s)); /* U+0000 refused */
	assert_int_equal(json_obj_get(&d, 0, "missing"), -1);
	int l = json_obj_get(&d, 0, "list");
	assert_int_equal(json_type_of(&d, l), JSON_ARRAY);
	assert_int_equal(d.nodes[l].n_children, 2);
	assert_int_equal(json_type_of(&d, d.nodes[l].first_child), JSON_TRUE);
	assert_int_equal(json_obj_get(&d, l, "x"), -1); /* not an object */
	assert_false(json_str(&d, l, s, sizeof s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_basic),
		cmocka_unit_test(test_writer_misuse_and_overflow),
		cmocka_unit_test(test_double_round_trip),
		cmocka_unit_test(test_reader_accepts),
		cmocka_unit_test(test_reader_refuses),
		cmocka_unit_test(test_reader_limits),
		cmocka_unit_test(test_lookup_and_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
