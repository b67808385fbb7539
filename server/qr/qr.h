/* qr/qr.h - lane QR codes (spec 2.3): their public addresses and their PNG images.
 *
 * 2.3 answers code_url = <public url>/qr/<id>.png, an address parklinkd itself serves
 * (qr/page.c): a PNG of a QR code encoding the driver-facing short link
 * <public url>/unionapi/t?p=<id>, the form the reference's code_url has. The public URL is
 * --public-url, by default http://<--listen>. Images come from libqrencode + libpng. */
#ifndef PARKLINK_QR_H
#define PARKLINK_QR_H

#include <stddef.h>
#include <stdint.h>

#define QR_URL_MAX 1200

/* Set the public base URL: public_url when not empty (a trailing '/' is dropped), else
 * "http://" + listen. Call once before the workers start. 0 ok; -1 (logged) if it is not an
 * http:// or https:// URL. */
int qr_init(const char *public_url, const char *listen);

/* <base>/qr/<id>.png and <base>/unionapi/t?p=<id> into out (truncated to cap). */
void qr_image_url(int64_t id, char *out, size_t cap);
void qr_link_url(int64_t id, char *out, size_t cap);

/* A PNG of the QR code of text (UTF-8, error correction M, 8 px modules, 4-module quiet
 * zone) in malloc'd memory: *png (the caller frees) and *len. 0 ok, -1 failed or not built
 * (the build found no libqrencode/libpng). Thread-safe. */
int qr_png(const char *text, unsigned char **png, size_t *len);

#endif
