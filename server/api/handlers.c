/* handlers.c - THE binding table: service id -> handler function.
 *
 * Adding an interface is one row in lib/services.def (schema, flags) plus one row here and
 * the function; the pipeline does everything else. Resolved once at start into an array
 * indexed by plk_service.index, so finding a handler costs one load. */
#include <stdlib.h>

#include "api/handlers.h"
#include "log.h"

/* What a handler reads of `data`: only scalar members through pipeline_text/pipeline_int
 * (the flat view; no json_t tree is ever built for its requests), or the tree call->env.data
 * (decoded by the pipeline before the handler runs). */
enum reads { READS_TREE, READS_FIELDS };

struct binding {
    const char *service_id;
    api_handler_fn fn;
    enum reads reads;
};

static const struct binding bindings[] = {
    {"park_check", api_admission_park_check, READS_FIELDS},
    /* parks.c */
    {"addpark", api_parks_publish, READS_TREE},
    {"updatepark", api_parks_update, READS_TREE},
    {"getqrcodecloud", api_parks_qrcode, READS_TREE},
    {"setup", api_parks_sms, READS_TREE},
    /* orders.c */
    {"addorder", api_orders_entry, READS_TREE},
    {"updateorder", api_orders_exit, READS_TREE},
    {"queryescape", api_orders_escapes, READS_TREE},
    /* queries.c */
    {"queryorders", api_queries_orders, READS_TREE},
    {"queryorderstate", api_queries_order_state, READS_TREE},
    /* reports.c */
    {"correct_business", api_reports_correct, READS_TREE},
    {"parking_business_count", api_reports_open_count, READS_TREE},
    {"parking_business_list", api_reports_open_list, READS_TREE},
    {"get_screen_str", api_reports_screen, READS_TREE},
    {"get_vip_vehicle_list", api_reports_vip_list, READS_TREE},
};

static const struct binding **by_index;
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
            log_error("handler table: '%s' is not a service of lib/services.def", b->service_id);
            bad = 1;
        } else if (svc->dir != PLK_DIR_V2P) {
            log_error("handler table: '%s' (%s) is not a vendor-to-platform service", b->service_id,
                      svc->section);
            bad = 1;
        } else if (by_index[svc->index] != NULL) {
            log_error("handler table: '%s' is bound twice", b->service_id);
            bad = 1;
        } else {
            by_index[svc->index] = b;
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

static const struct binding *binding_of(const struct plk_service *svc)
{
    return svc->index < nrows ? by_index[svc->index] : NULL;
}

api_handler_fn handlers_get(const struct plk_service *svc)
{
    const struct binding *b = binding_of(svc);
    return b ? b->fn : NULL;
}

int handlers_need_tree(const struct plk_service *svc)
{
    const struct binding *b = binding_of(svc);
    return b == NULL || b->reads == READS_TREE;
}
