/* text.h - keeping texts valid UTF-8 where parklink writes them into JSON.
 *
 * Error texts quote what a client sent (a path segment, a vendor's errmsg) and are cut to
 * fixed buffers; either can leave bytes that are not UTF-8, and a JSON writer refuses such a
 * string (jansson's json_string() returns NULL). plk_utf8_repair() makes any such text safe
 * to write: valid sequences stay, every other byte becomes '?'. */
#ifndef PARKLINK_TEXT_H
#define PARKLINK_TEXT_H

#include <stddef.h>

/* Replace, in place, every byte of s (n bytes) that does not belong to a well-formed UTF-8
 * sequence (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF; a sequence
 * cut off at the end counts as broken) with '?'. Returns the number of bytes replaced. */
size_t plk_utf8_repair(char *s, size_t n);

#endif
