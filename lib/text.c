/* text.c - UTF-8 repair of texts parklink writes into JSON (see parklink/text.h). */
#include "parklink/text.h"

/* Length of the well-formed sequence at s (at most n bytes), or 0 when there is none. */
static size_t sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t k;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return k;
}

size_t plk_utf8_repair(char *s, size_t n)
{
    unsigned char *p = (unsigned char *)s;
    size_t i = 0, fixed = 0;

    while (i < n) {
        size_t k = sequence(p + i, n - i);
        if (k == 0) {
            p[i++] = '?';
            fixed++;
        } else {
            i += k;
        }
    }
    return fixed;
}
