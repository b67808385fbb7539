/* status.h - the one public status enum of libparklink.
 *
 * Every library function that can fail returns an enum plk_status. Values are never
 * renumbered; new ones are added before PLK__STATUS_COUNT. plk_strerror() gives an English
 * text for logs; plk_errmsg() gives the stable Chinese `errmsg` the server puts on the wire
 * (DESIGN decision 4: one table of errmsg texts, kept in lib/status.c). */
#ifndef PARKLINK_STATUS_H
#define PARKLINK_STATUS_H

enum plk_status {
    PLK_OK = 0,
    PLK_E_NOMEM,              /* allocation failed */
    PLK_E_INVALID_ARG,        /* caller passed something unusable */
    PLK_E_TOO_LARGE,          /* body over the configured cap */
    PLK_E_EMPTY,              /* body empty */
    PLK_E_NOT_JSON,           /* body is not JSON text */
    PLK_E_BAD_UTF8,           /* body is not valid UTF-8 */
    PLK_E_NOT_OBJECT,         /* envelope is not a JSON object (nor a string holding one) */
    PLK_E_DUP_KEY,            /* an object repeats a member name */
    PLK_E_NO_DATA,            /* envelope has no `data` */
    PLK_E_DATA_NOT_OBJECT,    /* `data` is not an object */
    PLK_E_NO_SIGN,            /* envelope has no `sign` */
    PLK_E_BAD_SIGN_FORMAT,    /* `sign` is not 32 hexadecimal characters */
    PLK_E_NO_UNION_ID,        /* `union_id` neither at top level nor in `data` */
    PLK_E_BAD_UNION_ID,       /* `union_id` not a positive integer or digit string */
    PLK_E_UNION_ID_CONFLICT,  /* top-level and `data` union_id differ */
    PLK_E_SIGN_MISMATCH,      /* signature does not verify */
    PLK_E_UNKNOWN_VENDOR,     /* no vendor with that union_id */
    PLK_E_NO_SERVICE_NAME,    /* uploadData/callback without `service_name` */
    PLK_E_UNKNOWN_SERVICE,    /* no row in the service table */
    PLK_E_FIELD_MISSING,      /* a required field is absent (or null) */
    PLK_E_FIELD_TYPE,         /* a field has the wrong JSON type */
    PLK_E_FIELD_TOO_LONG,     /* a field is longer than its max length */
    PLK_E_FIELD_ENUM,         /* a field's value is not one of the allowed values */
    PLK_E_FOREIGN_PARK,       /* the park belongs to another vendor */
    PLK_E_UNKNOWN_PARK,       /* no such park */
    PLK_E_IO,                 /* file or socket error */
    PLK_E_HTTP,               /* HTTP transfer failed (client side) */
    PLK_E_REPLY,              /* a peer's reply is not the expected JSON */
    PLK_E_SESSION_UNKNOWN,    /* SDK token never issued, replaced or forgotten */
    PLK_E_SESSION_EVICTED,    /* SDK session ended by the vendor's (park's) session quota */
    PLK_E_SESSION_IDLE,       /* SDK session ended after being idle */
    PLK_E_SESSION_REVOKED,    /* SDK session ended: key changed, vendor or park deleted */
    PLK_E_REPLAYED,           /* the same signed request again within the replay window */
    PLK_E_STALE_TIME,         /* a request's timestamp is outside the replay window */
    PLK_E_BAD_REQUEST,        /* the HTTP request itself is malformed (framing, encoding) */
    PLK_E_HEADERS_TOO_LARGE,  /* the HTTP request head is over the server's limit */
    PLK_E_FIELD_NUL,          /* a text holds U+0000 (\u0000), which would cut it short */
    PLK_E_FIELD_RANGE,        /* an integer field's value is outside its range */
    PLK__STATUS_COUNT
};

/* English description for logs and the CLI. Never NULL. */
const char *plk_strerror(enum plk_status st);

/* Stable Chinese `errmsg` text for a reply carrying this status. Never NULL. */
const char *plk_errmsg(enum plk_status st);

/* The words after a field's name for a schema failure (PLK_E_FIELD_*): "缺失" in
 * "字段 car_number 缺失". NULL for statuses that are not about one field. */
const char *plk_field_errmsg(enum plk_status st);

#endif
