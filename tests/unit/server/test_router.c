/* test_router.c - server/api/router.c against the service table, and the handler binding.
 *
 * Every vendor-to-platform row must be reachable: by its path, or (uploadData rows) by its
 * service_name; other rows never; and handlers_init() must accept the binding table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "api/handlers.h"
#include "api/router.h"

static void test_every_row_routes(void **state)
{
    size_t n;
    const struct plk_service *t = plk_services(&n);
    struct route r;
    (void)state;

    assert_int_equal(router_init(), 0);
    for (size_t i = 0; i < n; i++) {
        const struct plk_service *s = &t[i];
        int absolute = s->path[0] == '/';
        if (s->dir != PLK_DIR_V2P || s->path[0] == '\0')
            continue;
        assert_int_equal(router_match(s->path, strlen(s->path), absolute, &r), 1);
        if (s->flags & PLK_SVC_UPLOAD_DATA) {
            assert_true(r.upload_data);
            assert_ptr_equal(router_by_name(s->service_name), s);
        } else {
            assert_ptr_equal(r.svc, s);
        }
    }
    assert_int_equal(router_match("no/such", 7, 0, &r), 0);
    assert_int_equal(router_match("neworder/uploadDat", 18, 0, &r), 0);
    assert_int_equal(router_match("/neworder/uploadData", 20, 0, &r), 0);
    assert_null(router_by_name("no_such_service"));
    assert_non_null(router_by_name("park_check"));
    router_cleanup();
}

static void test_handlers_bind(void **state)
{
    (void)state;
    assert_int_equal(handlers_init(), 0);
    assert_ptr_equal(handlers_get(plk_service_by_id("park_check")), api_admission_park_check);
    handlers_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_routes),
        cmocka_unit_test(test_handlers_bind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
