/* envelope_scan.h - the one strict pass over an envelope's text (private to lib/envelope.c).
 *
 * simdjson reads the text once (envelope_scan.cpp): it checks the grammar and strict UTF-8,
 * and a walk over its DOM records what envelope.c needs without building a jansson tree - the
 * envelope's own sign/union_id/service_name, the exact byte span of the top-level `data`, and
 * data's direct members into env's flat view. Whatever the pass cannot decide alone (nested
 * containers, member names beyond the view, surrogate escapes) it reports in `needs_tree`, and
 * envelope.c lets jansson decide those. */
#ifndef PARKLINK_ENVELOPE_SCAN_H
#define PARKLINK_ENVELOPE_SCAN_H

#include "parklink/envelope.h"

struct envelope_scan {
    enum plk_kind root_kind; /* the kind of the whole text */
    unsigned char has_sign, has_union_id, has_service_name, has_data;
    enum plk_kind data_kind; /* OBJ or ARR when data_text is set */
    const char *data_text;   /* the raw span of data (OBJ or ARR) */
    size_t data_len;
    unsigned char needs_tree; /* only jansson can finish the checks (see above) */
    unsigned char overflow;   /* data has more members than the view holds */
    /* the fields above start zeroed; the ones below are set only where a flag says so */
    struct plk_value root_string; /* root_kind STR: its decoded text (double encoding) */
    struct plk_value sign, union_id, service_name; /* top-level members, when has_... */
    struct plk_value data_scalar; /* has_data without data_text: the scalar data (refused) */
    char detail[120];             /* what the pass itself refused (duplicate name, bad UTF-8...) */
};

/* Scan `text` into env's flat view (env->members, env->arena) and *out. env->arena must have
 * room for len + 64 bytes. Returns PLK_OK, or the status of what is wrong (PLK_E_NOT_JSON,
 * PLK_E_BAD_UTF8, PLK_E_DUP_KEY, PLK_E_NOMEM) with out->detail set. */
enum plk_status envelope_scan_text(struct plk_envelope *env, const char *text, size_t len,
                                   struct envelope_scan *out);

#endif
