/* test_text.c - plk_utf8_repair(): valid UTF-8 is left alone, every broken byte becomes '?',
 * and what comes out is accepted by jansson (the JSON writer the server uses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "parklink/text.h"

static void repaired(const char *in, size_t n, const char *want, size_t want_fixed)
{
    char buf[64];
    json_t *j;

    memcpy(buf, in, n);
    assert_int_equal(plk_utf8_repair(buf, n), want_fixed);
    assert_memory_equal(buf, want, n);
    j = json_stringn(buf, n);
    assert_non_null(j); /* jansson takes it now */
    json_decref(j);
}

#define R(in, want, fixed) repaired((in), sizeof(in) - 1, (want), (fixed))

static void test_valid_text_is_kept(void **state)
{
    R("plain ascii", "plain ascii", 0);
    R("京A12345 车场维护中", "京A12345 车场维护中", 0);
    R("\xc2\x80 \xdf\xbf \xef\xbf\xbd \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf",
      "\xc2\x80 \xdf\xbf \xef\xbf\xbd \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf", 0);
}

static void test_broken_bytes_become_question_marks(void **state)
{
    R("a\xff!", "a?!", 1);                     /* never UTF-8 */
    R("\xc0\xaf", "??", 2);                    /* overlong '/' */
    R("\xe0\x80\xaf", "???", 3);               /* overlong, three bytes */
    R("\xed\xa0\x80", "???", 3);               /* an encoded surrogate */
    R("\xf4\x90\x80\x80", "????", 4);          /* above U+10FFFF */
    R("\x80x", "?x", 1);                       /* a lone continuation byte */
    R("ok \xe4\xba", "ok ??", 2);              /* 京 cut after two of its bytes */
    R("\xe4\xba\xac\xe4", "\xe4\xba\xac?", 1); /* a whole 京, then a cut one */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_text_is_kept),
        cmocka_unit_test(test_broken_bytes_become_question_marks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
