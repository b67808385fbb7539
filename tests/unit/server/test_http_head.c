/* test_http_head.c - server/http/head.c: the line scanner of raw request heads.
 *
 * Completeness (CRLF and bare LF line ends, an empty line before the request line), the
 * framing verdicts (conflicting Content-Length, CL with TE, TE twice; identical CLs pass),
 * header counting and the first Authorization value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http/head.h"

static int scan(const char *s, struct http_head *h)
{
    return http_head_scan(s, strlen(s), h);
}

static void test_complete_or_not(void **state)
{
    struct http_head h;
    const char *full = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}";

    (void)state;
    assert_int_equal(scan(full, &h), 1);
    assert_int_equal(h.len, strlen(full) - 2);
    assert_int_equal(h.headers, 2);
    assert_null(h.bad_framing);
    assert_int_equal(scan("POST /x HTTP/1.1\r\nHost: a\r\n", &h), 0);
    assert_int_equal(scan("POST /x HTTP/1.1\r\nHost: a\r\n\r", &h), 0);
    assert_int_equal(scan("GET / HTTP/1.1\nHost: a\n\n", &h), 1);
    assert_int_equal(h.len, strlen("GET / HTTP/1.1\nHost: a\n\n"));
    assert_int_equal(scan("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", &h), 1);
    assert_int_equal(h.headers, 1);
}

static void test_framing(void **state)
{
    struct http_head h;

    (void)state;
    assert_int_equal(scan("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\n", &h),
                     1);
    assert_non_null(h.bad_framing);
    assert_int_equal(scan("POST / HTTP/1.1\r\ncontent-length: 40\r\nCONTENT-LENGTH:5\r\n\r\n", &h),
                     1);
    assert_non_null(h.bad_framing);
    assert_int_equal(
        scan("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length:  5 \r\n\r\n", &h), 1);
    assert_null(h.bad_framing); /* identical values frame the same */
    assert_int_equal(
        scan("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", &h), 1);
    assert_non_null(h.bad_framing);
    assert_int_equal(
        scan("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", &h), 1);
    assert_non_null(h.bad_framing);
    assert_int_equal(
        scan("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
             &h),
        1);
    assert_non_null(h.bad_framing);
    assert_int_equal(scan("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h), 1);
    assert_null(h.bad_framing);
    /* a name that only starts like content-length is another header */
    assert_int_equal(scan("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Lengthx: 9\r\n\r\n", &h),
                     1);
    assert_null(h.bad_framing);
}

static void test_authorization(void **state)
{
    struct http_head h;

    (void)state;
    assert_int_equal(scan("GET / HTTP/1.1\r\nauthorization:  Bearer abc \r\n"
                          "Authorization: Bearer other\r\n\r\n",
                          &h),
                     1);
    assert_int_equal(h.authorization.len, strlen("Bearer abc"));
    assert_memory_equal(h.authorization.base, "Bearer abc", h.authorization.len);
    assert_int_equal(scan("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &h), 1);
    assert_null(h.authorization.base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_or_not),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_authorization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
