/* store_tx.h - a session on one store handle, and the write transaction a group commit shares.
 *
 * The writer thread (server/writer.c) opens one session on its own store handle and runs every
 * queued job inside one batch transaction on it (store_orders.h: batch_begin, job_begin/end,
 * batch_commit). A job receives the session as `struct store_tx *`: any sub-interface op that
 * takes a store_tx runs its statements inside that open transaction, so rows written by
 * different sub-interfaces (an entry and its outbox message) commit together or not at all.
 * Outside a batch the same ops run in a transaction of their own. */
#ifndef PARKLINK_STORE_TX_H
#define PARKLINK_STORE_TX_H

struct store;

/* A backend's session struct starts with this (as backends' handles start with struct store).
 * A session belongs to one thread at a time; its handle's lock serialises it with the handle's
 * other users. */
struct store_tx {
    struct store *st; /* the handle the session was opened on */
};

#endif
