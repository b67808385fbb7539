/* catalog_rows.c - reading vendors, parks and plate rows out of a statement (catalog_rows.h).
 *
 * One reader per table, over the column order of its *_COLS; the emit functions pair a
 * reader with a store.h row callback for sql_each (lists and the snapshot load). */
#include "store/catalog_rows.h"

void catalog_read_vendor(struct sql_stmt *q, void *out)
{
    struct store_vendor *v = out;

    sql_col_copy(q, 0, v->union_id, sizeof(v->union_id));
    sql_col_copy(q, 1, v->ukey, sizeof(v->ukey));
    sql_col_copy(q, 2, v->name, sizeof(v->name));
    sql_col_copy(q, 3, v->callback_url, sizeof(v->callback_url));
    v->created = sql_col_int(q, 4);
    v->updated = sql_col_int(q, 5);
    v->replay_window_s = (int)sql_col_int(q, 6);
}

void catalog_read_park(struct sql_stmt *q, void *out)
{
    struct store_park *p = out;

    sql_col_copy(q, 0, p->park_id, sizeof(p->park_id));
    sql_col_copy(q, 1, p->union_id, sizeof(p->union_id));
    sql_col_copy(q, 2, p->name, sizeof(p->name));
    p->total_plot = (int)sql_col_int(q, 3);
    p->empty_plot = (int)sql_col_int(q, 4);
    p->members_only = (int)sql_col_int(q, 5);
    p->has_prepay = (int)sql_col_int(q, 6);
    p->suspended = (int)sql_col_int(q, 7);
    p->reason_msg[0][0] = '\0';
    for (int i = 1; i <= 3; i++)
        sql_col_copy(q, 7 + i, p->reason_msg[i], sizeof(p->reason_msg[i]));
    p->created = sql_col_int(q, 11);
    p->updated = sql_col_int(q, 12);
}

void catalog_read_blacklist(struct sql_stmt *q, void *out)
{
    struct store_blacklist *e = out;

    e->id = sql_col_int(q, 0);
    sql_col_copy(q, 1, e->plate, sizeof(e->plate));
    e->color = (int)sql_col_int(q, 2);
    sql_col_copy(q, 3, e->reason, sizeof(e->reason));
    e->valid_from = sql_col_int(q, 4);
    e->valid_until = sql_col_int(q, 5);
    e->created = sql_col_int(q, 6);
    e->rev = sql_col_int(q, 7);
}

void catalog_read_member(struct sql_stmt *q, void *out)
{
    struct store_member *m = out;

    m->id = sql_col_int(q, 0);
    sql_col_copy(q, 1, m->plate, sizeof(m->plate));
    m->color = (int)sql_col_int(q, 2);
    sql_col_copy(q, 3, m->park_id, sizeof(m->park_id));
    m->valid_until = sql_col_int(q, 4);
    m->created = sql_col_int(q, 5);
    m->updated = sql_col_int(q, 6);
    m->rev = sql_col_int(q, 7);
}

void catalog_read_reservation(struct sql_stmt *q, void *out)
{
    struct store_reservation *r = out;

    r->id = sql_col_int(q, 0);
    sql_col_copy(q, 1, r->plate, sizeof(r->plate));
    r->color = (int)sql_col_int(q, 2);
    sql_col_copy(q, 3, r->park_id, sizeof(r->park_id));
    r->start = sql_col_int(q, 4);
    r->end = sql_col_int(q, 5);
    r->state = (int)sql_col_int(q, 6);
    r->created = sql_col_int(q, 7);
    r->updated = sql_col_int(q, 8);
    r->rev = sql_col_int(q, 9);
}

int catalog_emit_vendor(struct sql_stmt *q, void *emit)
{
    struct catalog_emit *e = emit;
    struct store_vendor row;

    catalog_read_vendor(q, &row);
    return e->cb.vendor(e->arg, &row);
}

int catalog_emit_park(struct sql_stmt *q, void *emit)
{
    struct catalog_emit *e = emit;
    struct store_park row;

    catalog_read_park(q, &row);
    return e->cb.park(e->arg, &row);
}

int catalog_emit_blacklist(struct sql_stmt *q, void *emit)
{
    struct catalog_emit *e = emit;
    struct store_blacklist row;

    catalog_read_blacklist(q, &row);
    return e->cb.blacklist(e->arg, &row);
}

int catalog_emit_member(struct sql_stmt *q, void *emit)
{
    struct catalog_emit *e = emit;
    struct store_member row;

    catalog_read_member(q, &row);
    return e->cb.member(e->arg, &row);
}

int catalog_emit_reservation(struct sql_stmt *q, void *emit)
{
    struct catalog_emit *e = emit;
    struct store_reservation row;

    catalog_read_reservation(q, &row);
    return e->cb.reservation(e->arg, &row);
}
