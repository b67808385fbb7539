/* api/router.c - sorted indexes over the service table for the pipeline's route step.
 *
 * plk_service_by_path() and plk_service_by_name() scan all rows; the hot path cannot afford
 * a scan per request, so the same rows are sorted once here and found by bsearch. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "api/router.h"

struct entry {
    const char *key;
    size_t len;
    const struct plk_service *svc; /* NULL: the uploadData dispatcher */
};

static struct entry *paths, *names;
static size_t npaths, nnames;

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int add(struct entry *arr, size_t *n, const char *key, const struct plk_service *svc)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(arr[i].key, key) == 0) {
            if (svc == NULL && arr[i].svc == NULL)
                return 0; /* many rows share neworder/uploadData */
            log_error("service table: '%s' claimed by both %s and %s", key,
                      arr[i].svc ? arr[i].svc->id : "uploadData",
                      svc ? svc->id : "uploadData");
            return -1;
        }
    arr[*n].key = key;
    arr[*n].len = strlen(key);
    arr[*n].svc = svc;
    (*n)++;
    return 0;
}

int router_init(void)
{
    size_t n;
    const struct plk_service *t = plk_services(&n);

    paths = calloc(n + 1, sizeof *paths);
    names = calloc(n + 1, sizeof *names);
    if (paths == NULL || names == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const struct plk_service *s = &t[i];
        if (s->dir != PLK_DIR_V2P || s->path[0] == '\0')
            continue;
        if (s->flags & PLK_SVC_UPLOAD_DATA) {
            if (s->service_name[0] == '\0') {
                log_error("service table: %s is served at uploadData but has no "
                          "service_name", s->id);
                goto fail;
            }
            if (add(paths, &npaths, s->path, NULL) != 0 ||
                add(names, &nnames, s->service_name, s) != 0)
                goto fail;
        } else if (add(paths, &npaths, s->path, s) != 0) {
            goto fail;
        }
    }
    qsort(paths, npaths, sizeof *paths, cmp_entry);
    qsort(names, nnames, sizeof *names, cmp_entry);
    return 0;
fail:
    router_cleanup();
    return -1;
}

void router_cleanup(void)
{
    free(paths);
    free(names);
    paths = names = NULL;
    npaths = nnames = 0;
}

static const struct entry *find(const struct entry *arr, size_t n, const char *key, size_t len)
{
    struct entry k = {key, len, NULL};
    return bsearch(&k, arr, n, sizeof *arr, cmp_entry);
}

int router_match(const char *path, size_t len, int absolute, struct route *out)
{
    const struct entry *e;

    /* absolute rows start with '/', relative ones never do: one index serves both */
    if (absolute != (len > 0 && path[0] == '/'))
        return 0;
    if ((e = find(paths, npaths, path, len)) == NULL)
        return 0;
    out->svc = e->svc;
    out->upload_data = e->svc == NULL;
    return 1;
}

const struct plk_service *router_by_name(const char *service_name)
{
    const struct entry *e = find(names, nnames, service_name, strlen(service_name));
    return e ? e->svc : NULL;
}
