/* migrations.c - the SQLite schema, one numbered migration per array element.
 *
 * Never edit a migration that has shipped: append a new one (orders, outbox ... come as
 * later entries). sqlite.c applies them in order at open and records the version in
 * PRAGMA user_version. Revision stamps and tombstones are what lets the registry reload
 * only what changed (see store.h, store_load). */
#include "store/migrations.h"

const char *const store_sqlite_migrations[] = {
    /* 1: vendors, parks, the plate tables (blacklist, members, reservations), settings, the
     * global revision counter, and tombstones written by triggers so that every delete,
     * cascaded ones included, is seen by an incremental load. */
    "CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL);\n"
    "INSERT INTO revision (id, rev) VALUES (1, 0);\n"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE vendors (\n"
    "  union_id TEXT PRIMARY KEY,\n"
    "  ukey TEXT NOT NULL,\n"
    "  name TEXT NOT NULL DEFAULT '',\n"
    "  callback_url TEXT NOT NULL DEFAULT '',\n"
    "  created INTEGER NOT NULL, updated INTEGER NOT NULL, rev INTEGER NOT NULL);\n"
    "CREATE TABLE parks (\n"
    "  park_id TEXT PRIMARY KEY,\n"
    "  union_id TEXT NOT NULL REFERENCES vendors (union_id),\n"
    "  name TEXT NOT NULL DEFAULT '',\n"
    "  total_plot INTEGER NOT NULL DEFAULT 0,\n"
    "  empty_plot INTEGER NOT NULL DEFAULT 0,\n"
    "  members_only INTEGER NOT NULL DEFAULT 0,\n"
    "  has_prepay INTEGER NOT NULL DEFAULT 0,\n"
    "  suspended INTEGER NOT NULL DEFAULT 0,\n"
    "  msg_nonmember TEXT, msg_blacklist TEXT, msg_other TEXT,\n"
    "  created INTEGER NOT NULL, updated INTEGER NOT NULL, rev INTEGER NOT NULL);\n"
    "CREATE INDEX parks_union_id ON parks (union_id);\n"
    "CREATE TABLE blacklist (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  plate TEXT NOT NULL,\n"
    "  color INTEGER NOT NULL CHECK (color BETWEEN -1 AND 7),\n"
    "  reason TEXT NOT NULL DEFAULT '',\n"
    "  valid_from INTEGER NOT NULL DEFAULT 0,\n"
    "  valid_until INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL, rev INTEGER NOT NULL,\n"
    "  UNIQUE (plate, color));\n"
    "CREATE INDEX blacklist_rev ON blacklist (rev);\n"
    "CREATE TABLE members (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  plate TEXT NOT NULL,\n"
    "  color INTEGER NOT NULL CHECK (color BETWEEN 0 AND 7),\n"
    "  park_id TEXT REFERENCES parks (park_id) ON DELETE CASCADE,\n"
    "  valid_until INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL, updated INTEGER NOT NULL, rev INTEGER NOT NULL);\n"
    "CREATE UNIQUE INDEX members_key ON members (plate, color, coalesce(park_id, ''));\n"
    "CREATE INDEX members_park ON members (park_id);\n"
    "CREATE INDEX members_rev ON members (rev);\n"
    "CREATE TABLE reservations (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  plate TEXT NOT NULL,\n"
    "  color INTEGER NOT NULL CHECK (color BETWEEN 0 AND 7),\n"
    "  park_id TEXT NOT NULL REFERENCES parks (park_id) ON DELETE CASCADE,\n"
    "  start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,\n"
    "  state INTEGER NOT NULL DEFAULT 0,\n"
    "  created INTEGER NOT NULL, updated INTEGER NOT NULL, rev INTEGER NOT NULL);\n"
    "CREATE INDEX reservations_plate ON reservations (plate);\n"
    "CREATE INDEX reservations_park ON reservations (park_id);\n"
    "CREATE INDEX reservations_rev ON reservations (rev);\n"
    "CREATE TABLE tombstones (rev INTEGER NOT NULL, kind INTEGER NOT NULL,\n"
    "  id INTEGER NOT NULL);\n"
    "CREATE INDEX tombstones_rev ON tombstones (rev);\n"
    "CREATE TRIGGER blacklist_tombstone AFTER DELETE ON blacklist BEGIN\n"
    "  INSERT INTO tombstones (rev, kind, id)\n"
    "  VALUES ((SELECT rev FROM revision WHERE id = 1), 1, OLD.id); END;\n"
    "CREATE TRIGGER members_tombstone AFTER DELETE ON members BEGIN\n"
    "  INSERT INTO tombstones (rev, kind, id)\n"
    "  VALUES ((SELECT rev FROM revision WHERE id = 1), 2, OLD.id); END;\n"
    "CREATE TRIGGER reservations_tombstone AFTER DELETE ON reservations BEGIN\n"
    "  INSERT INTO tombstones (rev, kind, id)\n"
    "  VALUES ((SELECT rev FROM revision WHERE id = 1), 3, OLD.id); END;\n",
};

const size_t store_sqlite_migration_count =
    sizeof(store_sqlite_migrations) / sizeof(store_sqlite_migrations[0]);
