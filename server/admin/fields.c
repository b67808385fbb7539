/* admin/fields.c - the admin API's readers of JSON body fields and of the ?plate= filter.
 *
 * Every reader checks one field of a request body (type, length, no control characters,
 * the identifier rules of the store) and on failure writes a message naming the field to
 * r->err, which the resource handlers (admin/parks.c, admin/plates.c, admin/cards.c) return
 * as a 400. Contracts in admin/internal.h. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "admin/internal.h"
#include "parklink/envelope.h"
#include "admission/registry.h"
#include "store/store.h"

#define PLATE_MAX_CHARS 16

/* ---- field readers: 0 absent (or null), 1 present and valid, -1 invalid (r->err) ---- */

static int no_controls(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    }
    return 1;
}

int admin_get_str(struct req *r, json_t *o, const char *pfx, const char *name, size_t min,
                  size_t max, const char **out)
{
    json_t *v = json_object_get(o, name);
    size_t n;

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return admin_bad(r, "field '%s%s' must be a string", pfx, name);
    n = json_string_length(v);
    if (n < min || n > max)
        return admin_bad(r, "field '%s%s' must be %zu-%zu bytes long", pfx, name, min, max);
    if (!no_controls(json_string_value(v), n))
        return admin_bad(r, "field '%s%s' must not contain control characters", pfx, name);
    *out = json_string_value(v);
    return 1;
}

int admin_get_int(struct req *r, json_t *o, const char *pfx, const char *name, int64_t min,
                  int64_t max, int64_t *out)
{
    json_t *v = json_object_get(o, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return admin_bad(r, "field '%s%s' must be an integer %" PRId64 "-%" PRId64, pfx, name, min,
                         max);
    *out = json_integer_value(v);
    return 1;
}

int admin_get_bool(struct req *r, json_t *o, const char *name, int *out)
{
    json_t *v = json_object_get(o, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 1;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = (int)json_integer_value(v);
        return 1;
    }
    return admin_bad(r, "field '%s' must be true or false", name);
}

int admin_missing(struct req *r, const char *pfx, const char *name)
{
    return admin_bad(r, "field '%s%s' is required", pfx, name);
}

/* Reject members not in allowed (the read-only created/updated/id/rev are tolerated so a
 * GET result can be sent back). */
int admin_check_fields(struct req *r, json_t *o, const char *pfx, const char *const *allowed)
{
    static const char *const readonly[] = {"id", "created", "updated", "rev", NULL};
    const char *k;
    json_t *v;

    json_object_foreach(o, k, v) {
        int ok = 0;

        for (int i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        for (int i = 0; readonly[i] != NULL && !ok; i++)
            ok = strcmp(k, readonly[i]) == 0;
        if (!ok)
            return admin_bad(r, "unknown field '%s%s'", pfx, k);
    }
    return 0;
}

int admin_union_id_field(struct req *r, json_t *o, const char *name,
                         char out[STORE_UNION_ID_MAX + 1])
{
    json_t *v = json_object_get(o, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (plk_union_id_text(v, out) != PLK_OK)
        return admin_bad(r, "field '%s' must be a positive integer or a string of 1-%d digits",
                         name, STORE_UNION_ID_MAX);
    return 1;
}

/* A union_id from the path: same rules as the field. */
int admin_union_id_key(const char *key, char out[STORE_UNION_ID_MAX + 1])
{
    json_t *v = json_string(key);
    int ok = v != NULL && plk_union_id_text(v, out) == PLK_OK;

    json_decref(v);
    return ok;
}

int admin_park_id_ok(const char *s, size_t n)
{
    return n >= 1 && n <= STORE_PARK_ID_MAX && no_controls(s, n) && memchr(s, '/', n) == NULL;
}

int admin_park_id_field(struct req *r, json_t *o, const char *pfx, const char *name,
                        char out[STORE_PARK_ID_MAX + 1])
{
    const char *s = NULL;
    int rc = admin_get_str(r, o, pfx, name, 1, STORE_PARK_ID_MAX, &s);

    if (rc != 1)
        return rc;
    if (!admin_park_id_ok(s, strlen(s)))
        return admin_bad(r, "field '%s%s' must be 1-%d characters without '/'", pfx, name,
                         STORE_PARK_ID_MAX);
    snprintf(out, STORE_PARK_ID_MAX + 1, "%s", s);
    return 1;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

/* Normalise and check a plate (text from JSON or a query: valid UTF-8 is checked here). */
static int plate_text(struct req *r, const char *pfx, const char *name, const char *s, size_t n,
                      char out[STORE_PLATE_MAX + 1])
{
    int len;

    if (!admin_is_utf8(s, n) || !no_controls(s, n))
        return admin_bad(r, "field '%s%s' must be valid UTF-8 text without control characters", pfx,
                         name);
    len = n <= 4 * PLATE_MAX_CHARS + 16 ? registry_plate_norm(s, n, out) : -1;
    if (len < 0 || utf8_chars(out, (size_t)len) > PLATE_MAX_CHARS)
        return admin_bad(r, "field '%s%s' must be a plate of 1-%d characters", pfx, name,
                         PLATE_MAX_CHARS);
    return 1;
}

int admin_plate_field(struct req *r, json_t *o, const char *pfx, char out[STORE_PLATE_MAX + 1])
{
    json_t *v = json_object_get(o, "plate");

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return admin_bad(r, "field '%splate' must be a string", pfx);
    return plate_text(r, pfx, "plate", json_string_value(v), json_string_length(v), out);
}

int admin_color_field(struct req *r, json_t *o, const char *pfx, int allow_any, int *out)
{
    json_t *v = json_object_get(o, "color");

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < (allow_any ? -1 : 0) ||
        json_integer_value(v) > 7)
        return admin_bad(r, "field '%scolor' must be an integer 0-7%s", pfx,
                         allow_any ? " (or -1 for any colour)" : "");
    *out = (int)json_integer_value(v);
    return 1;
}

/* An optional ?plate= filter, normalised like stored plates. */
int admin_plate_param(struct req *r, char out[STORE_PLATE_MAX + 1], const char **filter)
{
    const char *p = admin_param(r, "plate");

    *filter = NULL;
    if (p == NULL)
        return 0;
    if (plate_text(r, "", "plate", p, strlen(p), out) < 0) {
        snprintf(r->err, sizeof(r->err),
                 "query parameter 'plate' must be a plate of 1-%d "
                 "characters",
                 PLATE_MAX_CHARS);
        return -1;
    }
    *filter = out;
    return 0;
}
