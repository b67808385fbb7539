/* handlers.c - THE binding table: service id -> handler function.
 *
 * Adding an interface is one row in lib/services.def (schema, flags) plus one row here and
 * the function; the pipeline does everything else. Resolved once at start into an array
 * indexed by plk_service.index, so finding a handler costs one load. */
#include <stdlib.h>

#include "api/handlers.h"
#include "log.h"

struct binding {
    const char *service_id;
    api_handler_fn fn;
};

static const struct binding bindings[] = {
    {"park_check", api_admission_park_check},
    /* parks.c */
    {"addpark", api_parks_publish},
    {"updatepark", api_parks_update},
    {"getqrcodecloud", api_parks_qrcode},
    {"setup", api_parks_sms},
    /* orders.c */
    {"addorder", api_orders_entry},
    {"updateorder", api_orders_exit},
    {"queryescape", api_orders_escapes},
    /* queries.c */
    {"queryorders", api_queries_orders},
    {"queryorderstate", api_queries_order_state},
    /* reports.c */
    {"correct_business", api_reports_correct},
    {"parking_business_count", api_reports_open_count},
    {"parking_business_list", api_reports_open_list},
    {"get_screen_str", api_reports_screen},
    {"get_vip_vehicle_list", api_reports_vip_list},
};

static api_handler_fn *by_index;
static size_t nrows;

int handlers_init(void)
{
    int bad = 0;

    plk_services(&nrows);

    by_index = calloc(nrows ? nrows : 1, sizeof *by_index);
    if (by_index == NULL)
        return -1;
    for (size_t i = 0; i < sizeof bindings / sizeof bindings[0]; i++) {
        const struct binding *b = &bindings[i];
        const struct plk_service *svc = plk_service_by_id(b->service_id);
        if (svc == NULL) {
            log_error("handler table: '%s' is not a service of lib/services.def",
                      b->service_id);
            bad = 1;
        } else if (svc->dir != PLK_DIR_V2P) {
            log_error("handler table: '%s' (%s) is not a vendor-to-platform service",
                      b->service_id, svc->section);
            bad = 1;
        } else if (by_index[svc->index] != NULL) {
            log_error("handler table: '%s' is bound twice", b->service_id);
            bad = 1;
        } else {
            by_index[svc->index] = b->fn;
        }
    }
    if (bad) {
        handlers_cleanup();
        return -1;
    }
    return 0;
}

void handlers_cleanup(void)
{
    free(by_index);
    by_index = NULL;
}

api_handler_fn handlers_get(const struct plk_service *svc)
{
    return svc->index < nrows ? by_index[svc->index] : NULL;
}
