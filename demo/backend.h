/* SPDX-License-Identifier: MIT */
/*
 * The demo app's backend (build/deetune-demo-backend): a small "orders"
 * service behind nginx, using redis-server as a cache and mariadbd as its
 * database. Shared between backend.c (options, lifetime), routes.c (HTTP)
 * and store.c (Redis and MySQL connections).
 */
#ifndef DEETUNE_DEMO_BACKEND_H
#define DEETUNE_DEMO_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#define DEMO_HOST_MAX 256

struct demo_config {
	char listen_host[DEMO_HOST_MAX];
	uint16_t listen_port;
	char redis_host[DEMO_HOST_MAX];
	uint16_t redis_port;
	char mysql_host[DEMO_HOST_MAX];
	uint16_t mysql_port;
	const char *mysql_socket; /* instead of host and port when set */
	const char *mysql_user;
	const char *mysql_password;
	const char *mysql_db;
	unsigned int threads;
};

/*
 * One Redis and one MySQL connection, used by one request at a time. A
 * connection that fails is closed and opened again by the next request
 * that needs it, so the service survives a restart of either server.
 */
struct demo_store;

/* A fixed set of stores, one per HTTP worker thread, shared by a lock. */
struct demo_pool;

/*
 * Opens n stores and connects each (so that a missing server is reported
 * at start-up, not at the first request). *out is owned by the caller and
 * released with demo_pool_close. Returns 0 or a negative errno with a
 * message in err.
 */
int demo_pool_open(struct demo_pool **out, const struct demo_config *cfg,
		   unsigned int n, char *err, size_t errlen);
/* Waits for a free store; give it back with demo_pool_put. */
struct demo_store *demo_pool_get(struct demo_pool *pool);
void demo_pool_put(struct demo_pool *pool, struct demo_store *store);
void demo_pool_close(struct demo_pool *pool);

/*
 * The item as JSON: from the cache (Redis GET item:<id>, *cached true),
 * else from the database (SELECT ... FROM items) and then cached (SET
 * item:<id> ... EX 60). *json is the caller's (free()). Returns 0,
 * -ENOENT when no such item exists, -EIO when a server failed.
 */
int demo_store_item(struct demo_store *store, uint32_t id, char **json,
		    bool *cached);
/*
 * Inserts an order (INSERT INTO orders), then counts it (Redis INCR
 * orders:count). Returns 0 with the new order's id and the count, or
 * -EIO.
 */
int demo_store_order(struct demo_store *store, uint32_t item_id,
		     uint32_t qty, uint64_t *order_id, int64_t *count);
/* One Redis call (INCR failures:count) for the failing route; 0 or -EIO. */
int demo_store_count_failure(struct demo_store *store);

/* The HTTP side (routes.c); cls is the struct demo_pool. */
enum MHD_Result demo_answer(void *cls, struct MHD_Connection *conn,
			    const char *url, const char *method,
			    const char *version, const char *upload_data,
			    size_t *upload_data_size, void **con_cls);
void demo_request_done(void *cls, struct MHD_Connection *conn,
		       void **con_cls, enum MHD_RequestTerminationCode toe);

#endif /* DEETUNE_DEMO_BACKEND_H */
