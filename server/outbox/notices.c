/* notices.c - building the callbacks that follow vendors' requests (see notices.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/rand.h>

#include "log.h"
#include "outbox/notices.h"
#include "outbox/receivers.h"
#include "admission/registry.h"

struct outbox_msg *notices_car_owner(const struct vendor *v, const char *park_id,
                                     const char *order_id, const char *plate)
{
    const struct plk_service *svc = plk_service_by_id("notice_car_owner");
    struct outbox_msg *m = NULL;
    struct outbox_spec spec;
    char rnd[24], origin[STORE_OUTBOX_ORIGIN_MAX + 1], detail[160];
    uint64_t r = 0;
    json_t *data;

    if (svc == NULL || !receivers_reachable(v->union_id, svc->service_name, v->callback_url))
        return NULL;
    /* "differs from the previous message": 64 random bits in decimal */
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        return NULL;
    snprintf(rnd, sizeof rnd, "%" PRIu64, r);
    snprintf(origin, sizeof origin, "3.1 %.60s/%.60s", park_id, order_id);
    data = json_pack("{s:s,s:s,s:s,s:i,s:s}", "park_id", park_id, "order_id", order_id,
                     "car_number", plate, "is_union_user", 0, "rand", rnd);
    if (data == NULL || (m = calloc(1, sizeof *m)) == NULL)
        goto fail;
    spec = (struct outbox_spec){
        .svc = svc, .union_id = v->union_id, .ukey = v->ukey, .data = data, .origin = origin};
    if (outbox_prepare(&spec, m, NULL, detail, sizeof detail) != PLK_OK) {
        log_warn("outbox: 5.2 for %s/%s not prepared: %s", park_id, order_id, detail);
        goto fail;
    }
    json_decref(data);
    return m;
fail:
    json_decref(data);
    free(m);
    return NULL;
}

void notices_free(struct outbox_msg *m)
{
    if (m != NULL) {
        outbox_msg_cleanup(m);
        free(m);
    }
}
