/* admission.c - 10.4 park_check: may this car enter this park now?
 *
 * The hot path of the platform (every barrier of the city asks it): the pipeline has already
 * authenticated the vendor and found its park; the decision is a pure function of the
 * worker's registry snapshot (admission_decide, admission/rules.c). This file only reads two
 * fields and writes the reply into one buffer from the request pool: no malloc, no lock. */
#include <string.h>

#include "api/handlers.h"
#include "admission/rules.h"

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

static char *put_str(char *p, const char *s)
{
    *p++ = '"';
    p = put(p, s, strlen(s));
    *p++ = '"';
    return p;
}

enum api_result api_admission_park_check(struct api_call *call)
{
    char plate_buf[REGISTRY_PLATE_MAX + 1];
    const char *plate = pipeline_text(call, "car_number", plate_buf, sizeof plate_buf);
    int color = (int)pipeline_int(call, "license_color", 0); /* default blue (spec 1.6) */
    struct admission a;
    const char *msg;
    size_t msg_len;
    char *buf, *p;

    admission_decide(call->snap, call->park, plate, color, call->now, &a);

    /* {"status":"1","reason":"0","reason_msg":"","share_status":"0"}: all four are strings,
     * as the reference types them; status/reason/share_status are fixed digit strings from
     * admission_decide, reason_msg may be an operator's text and is escaped */
    msg = pipeline_quote(call, a.reason_msg, &msg_len);
    p = buf = pipeline_alloc(call, 96 + msg_len);
    p = PUT_LIT(p, "{\"status\":");
    p = put_str(p, a.status);
    p = PUT_LIT(p, ",\"reason\":");
    p = put_str(p, a.reason);
    p = PUT_LIT(p, ",\"reason_msg\":");
    p = put(p, msg, msg_len);
    p = PUT_LIT(p, ",\"share_status\":");
    p = put_str(p, a.share_status);
    *p++ = '}';
    pipeline_reply_data(call, 1, "ok", buf, (size_t)(p - buf));
    return API_DONE;
}
