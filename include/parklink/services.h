/* services.h - the service table: one row per interface of the reference.
 *
 * The rows live in lib/services.def (an X-macro file); this header exposes them as data.
 * The server's router, the schema validator, the CLI (`parklink services`, `call`) and the
 * generated docs/api.md all read the same rows (DESIGN decision 1). */
#ifndef PARKLINK_SERVICES_H
#define PARKLINK_SERVICES_H

#include <stddef.h>
#include <jansson.h>
#include "parklink/envelope.h"
#include "parklink/status.h"

enum plk_field_type {
    PLK_T_STR,   /* JSON string; a number is accepted too (examples send ids as numbers) */
    PLK_T_INT,   /* integer; a string of digits is accepted too */
    PLK_T_NUM,   /* any number (money, decimals); a numeric string is accepted too */
    PLK_T_OBJ,   /* JSON object */
    PLK_T_ARR,   /* JSON array */
    PLK_T_ANY,   /* anything */
};

/* What a field does against replays (server: the per-vendor replay window). */
enum plk_replay_role {
    PLK_REPLAY_NONE = 0,
    PLK_REPLAY_NONCE, /* changes on every request (rand): a repeat is a replay */
    PLK_REPLAY_TIME,  /* a unix time, seconds or milliseconds: too old or too new is a replay */
};

/* How strictly a field is held to the reference's table, where real traffic differs
 * (docs/decisions.md "Fields real clients omit, values they invent"). */
enum plk_field_flags {
    PLK_FIELD_ABSENT_OK = 1 << 0, /* required by the reference, accepted when absent: the
                                     handler has a default (never money, ids or keys) */
    PLK_FIELD_OPEN_ENUM = 1 << 1, /* values beyond `allowed` are accepted and kept as sent */
};

struct plk_field {
    const char *name;
    enum plk_field_type type;
    unsigned char required;   /* 1: the reference requires it (present, not null, not "") */
    unsigned short max_len;   /* max characters of the text form (UTF-8 code points); an
                                 integer's digits, sign not counted; 0 = none */
    const char *allowed;      /* "0|1|2": allowed values (text form), or NULL */
    const char *meaning;      /* one-line English description */
    unsigned char replay;     /* enum plk_replay_role (FIELDX rows of services.def) */
    unsigned char flags;      /* enum plk_field_flags */
};

/* Is the field refused when absent (required and not PLK_FIELD_ABSENT_OK)? */
int plk_field_enforced(const struct plk_field *f);

enum plk_direction {
    PLK_DIR_V2P,      /* vendor calls the platform: parklinkd serves it */
    PLK_DIR_P2V,      /* platform calls the vendor: a callback/command parklinkd sends */
    PLK_DIR_GET,      /* browser redirect (GET with a query string) */
    PLK_DIR_BOTH,     /* SDK transports */
};

enum plk_service_flags {
    PLK_SVC_SIGNED = 1 << 0,        /* current sign scheme required */
    PLK_SVC_LEGACY_SIGN = 1 << 1,   /* legacy sorted k=v scheme */
    PLK_SVC_PARK_SCOPED = 1 << 2,   /* data.park_id must be a park of the calling vendor */
    PLK_SVC_WRITES = 1 << 3,        /* changes stored state (answered only once durable) */
    PLK_SVC_IDEMPOTENT = 1 << 4,    /* idempotent on (park_id, order_id) */
    PLK_SVC_UPLOAD_DATA = 1 << 5,   /* served at neworder/uploadData, chosen by service_name */
    PLK_SVC_UNION_TOP = 1 << 6,     /* envelope B: union_id at the top level */
    PLK_SVC_UNSIGNED = 1 << 7,      /* no signature at all */
    PLK_SVC_QUESTION = 1 << 8,      /* P2V: the platform waits for the vendor's answer */
    PLK_SVC_NO_UNION_ID = 1 << 9,   /* P2V: union_id is not part of the message */
    PLK_SVC_KEY_TIME_SIGN = 1 << 10, /* 2.4: sign = upper(md5(KEY + timestamp)) in the query */
    PLK_SVC_REPLAY = 1 << 11,        /* derived from the fields: one has a replay role */
};

struct plk_service {
    unsigned index;            /* position in the table: 0..n-1 (per-service stats) */
    const char *id;            /* C identifier, unique: "park_check", "addorder" */
    const char *section;       /* "10.4", "3.1", "SDK-tcp" */
    enum plk_direction dir;
    const char *path;          /* V2P: path under /unionapi/ or an absolute path; else "" */
    const char *service_name;  /* uploadData / callbacks / SDK: the service_name; else "" */
    unsigned flags;
    const char *envelope;      /* envelope variant letter of 01-protocol.md 1.4 */
    const char *title;         /* English title */
    const char *title_zh;      /* the reference's Chinese title */
    const struct plk_field *fields;  /* members of `data` */
    size_t nfields;
};

/* The whole table; *n receives the row count. Static storage, never NULL. */
const struct plk_service *plk_services(size_t *n);

/* Lookups; NULL when absent. `path` is relative to /unionapi/ ("neworder/addorder") or an
 * absolute path for the exceptions ("/bpd/upload.do"); for neworder/uploadData use
 * plk_service_by_name(). */
const struct plk_service *plk_service_by_id(const char *id);
const struct plk_service *plk_service_by_path(const char *path, size_t len);
const struct plk_service *plk_service_by_name(const char *service_name, enum plk_direction dir);
const struct plk_field *plk_service_field(const struct plk_service *svc, const char *name);

/* Check `data` against the service's field schema: required fields present and not null
 * (unless PLK_FIELD_ABSENT_OK), types, max lengths, integer ranges, allowed values (unless
 * PLK_FIELD_OPEN_ENUM), no U+0000 in any text. Unknown extra members are accepted (the
 * reference's own examples misspell fields). On failure *bad (if not NULL) names the first
 * offending field. */
enum plk_status plk_service_validate(const struct plk_service *svc, const json_t *data,
                                     const struct plk_field **bad);

/* The same checks over a parsed envelope's data, from its flat view when it has one (no tree
 * is built for flat data). data's union_id is the envelope's when it stands only at the top
 * (plk_envelope_member). */
enum plk_status plk_service_validate_envelope(const struct plk_service *svc,
                                              struct plk_envelope *env,
                                              const struct plk_field **bad);

/* Readable names for the CLI and docs. */
const char *plk_field_type_name(enum plk_field_type t);
const char *plk_direction_name(enum plk_direction d);

#endif
