/* qr/qr.c - QR code addresses and PNG images (see qr/qr.h).
 *
 * libqrencode lays out the modules; libpng writes a 1-bit greyscale image into a growing
 * memory buffer (png_set_write_fn). libpng reports errors by longjmp, so everything the
 * error path frees is set up before setjmp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "qr/qr.h"

#if defined(PLK_HAVE_QR)
#include <png.h>
#include <qrencode.h>
#endif

#define MODULE_PX 8
#define QUIET_MODULES 4

static char base[QR_URL_MAX];

int qr_init(const char *public_url, const char *listen)
{
    size_t n;

    if (public_url != NULL && public_url[0] != '\0') {
        if (strncmp(public_url, "http://", 7) != 0 && strncmp(public_url, "https://", 8) != 0) {
            log_error("--public-url '%s': must start with http:// or https://", public_url);
            return -1;
        }
        snprintf(base, sizeof base, "%s", public_url);
    } else {
        snprintf(base, sizeof base, "http://%s", listen);
    }
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        base[--n] = '\0';
    return 0;
}

void qr_image_url(int64_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/qr/%lld.png", base, (long long)id);
}

void qr_link_url(int64_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/unionapi/t?p=%lld", base, (long long)id);
}

#if defined(PLK_HAVE_QR)

struct membuf {
    unsigned char *p;
    size_t len, cap;
    int failed;
};

static void on_write(png_structp png, png_bytep data, png_size_t n)
{
    struct membuf *m = png_get_io_ptr(png);

    if (m->failed)
        return;
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4096;
        unsigned char *p;

        while (cap < m->len + n)
            cap *= 2;
        if ((p = realloc(m->p, cap)) == NULL) {
            m->failed = 1;
            return;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, n);
    m->len += n;
}

static void on_flush(png_structp png)
{
    (void)png;
}

int qr_png(const char *text, unsigned char **out, size_t *out_len)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    png_structp png = NULL;
    png_infop info = NULL;
    struct membuf m = {0};
    unsigned char *row = NULL;
    unsigned px, rowbytes;
    int rc = -1;

    if (qr == NULL) {
        log_error("qr: cannot encode a %zu-byte text", strlen(text));
        return -1;
    }
    px = ((unsigned)qr->width + 2 * QUIET_MODULES) * MODULE_PX;
    rowbytes = (px + 7) / 8;
    row = malloc(rowbytes);
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    info = png ? png_create_info_struct(png) : NULL;
    if (row == NULL || info == NULL)
        goto out;
    if (setjmp(png_jmpbuf(png)))
        goto out;
    png_set_write_fn(png, &m, on_write, on_flush);
    png_set_IHDR(png, info, px, px, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (unsigned y = 0; y < px; y++) {
        int my = (int)(y / MODULE_PX) - QUIET_MODULES;

        memset(row, 0xff, rowbytes); /* white */
        for (unsigned x = 0; x < px; x++) {
            int mx = (int)(x / MODULE_PX) - QUIET_MODULES;

            /* bit 0 of each module byte is "dark" */
            if (mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
                (qr->data[my * qr->width + mx] & 1))
                row[x / 8] &= (unsigned char)~(0x80 >> (x % 8));
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    if (!m.failed) {
        *out = m.p;
        *out_len = m.len;
        m.p = NULL;
        rc = 0;
    }
out:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(m.p);
    free(row);
    QRcode_free(qr);
    return rc;
}

#else

int qr_png(const char *text, unsigned char **out, size_t *out_len)
{
    (void)text;
    (void)out;
    (void)out_len;
    log_error("qr: parklinkd was built without libqrencode/libpng");
    return -1;
}

#endif
