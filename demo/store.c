// SPDX-License-Identifier: MIT
/*
 * The demo backend's data: items cached in Redis in front of MariaDB,
 * orders inserted into MariaDB and counted in Redis. Each store holds one
 * connection to each server; the pool hands stores to request threads.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <mariadb/errmsg.h>
#include <mariadb/mysql.h>

#include "demo/backend.h"

#define SERVER_TIMEOUT_S 5
#define ITEM_CACHE_TTL_S 60

struct demo_store {
	const struct demo_config *cfg;
	redisContext *redis;
	MYSQL *mysql;
	bool busy;
};

struct demo_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct demo_store *stores;
	unsigned int n;
};

static int redis_connect(struct demo_store *s, char *err, size_t errlen)
{
	const struct timeval tv = { .tv_sec = SERVER_TIMEOUT_S };

	s->redis = redisConnectWithTimeout(s->cfg->redis_host,
					   s->cfg->redis_port, tv);
	if (s->redis && !s->redis->err &&
	    redisSetTimeout(s->redis, tv) == REDIS_OK)
		return 0;
	snprintf(err, errlen, "redis %s:%u: %s", s->cfg->redis_host,
		 s->cfg->redis_port, s->redis ? s->redis->errstr : "no memory");
	redisFree(s->redis);
	s->redis = NULL;
	return -EIO;
}

static int mysql_connect(struct demo_store *s, char *err, size_t errlen)
{
	const struct demo_config *cfg = s->cfg;
	unsigned int timeout = SERVER_TIMEOUT_S;

	s->mysql = mysql_init(NULL);
	if (!s->mysql) {
		snprintf(err, errlen, "mysql: no memory");
		return -ENOMEM;
	}
	mysql_options(s->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(s->mysql, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_options(s->mysql, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	mysql_options(s->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(s->mysql,
			       cfg->mysql_socket ? NULL : cfg->mysql_host,
			       cfg->mysql_user, cfg->mysql_password,
			       cfg->mysql_db,
			       cfg->mysql_socket ? 0 : cfg->mysql_port,
			       cfg->mysql_socket, 0))
		return 0;
	snprintf(err, errlen, "mysql %s: %s",
		 cfg->mysql_socket ? cfg->mysql_socket : cfg->mysql_host,
		 mysql_error(s->mysql));
	mysql_close(s->mysql);
	s->mysql = NULL;
	return -EIO;
}

/* Reconnects what a failure closed; complains on stderr when it cannot. */
static int store_ready(struct demo_store *s, bool redis, bool mysql)
{
	char err[512];

	if ((redis && !s->redis && redis_connect(s, err, sizeof(err)) < 0) ||
	    (mysql && !s->mysql && mysql_connect(s, err, sizeof(err)) < 0)) {
		fprintf(stderr, "deetune-demo-backend: %s\n", err);
		return -EIO;
	}
	return 0;
}

/*
 * A Redis command; NULL when it failed. A broken connection is dropped so
 * that the next request opens a new one; the command is not retried (an
 * INCR may have been applied before the connection broke).
 */
static redisReply *redis_call(struct demo_store *s, const char *fmt, ...)
{
	redisReply *reply;
	va_list ap;

	va_start(ap, fmt);
	reply = redisvCommand(s->redis, fmt, ap);
	va_end(ap);
	if (reply)
		return reply;
	fprintf(stderr, "deetune-demo-backend: redis: %s\n", s->redis->errstr);
	redisFree(s->redis);
	s->redis = NULL;
	return NULL;
}

/* A MySQL query; on a lost connection it is dropped as in redis_call. */
static int mysql_call(struct demo_store *s, const char *sql)
{
	unsigned int code;

	if (mysql_query(s->mysql, sql) == 0)
		return 0;
	code = mysql_errno(s->mysql);
	fprintf(stderr, "deetune-demo-backend: mysql: %s\n",
		mysql_error(s->mysql));
	if (code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST ||
	    code == CR_CONNECTION_ERROR) {
		mysql_close(s->mysql);
		s->mysql = NULL;
	}
	return -EIO;
}

/* Looks up the cache; 0 with *json (the caller's), -ENOENT, or -EIO. */
static int item_from_cache(struct demo_store *s, uint32_t id, char **json)
{
	redisReply *reply = redis_call(s, "GET item:%" PRIu32, id);
	int ret = -EIO;

	if (!reply)
		return -EIO;
	if (reply->type == REDIS_REPLY_NIL) {
		ret = -ENOENT;
	} else if (reply->type == REDIS_REPLY_STRING) {
		*json = strndup(reply->str, reply->len);
		ret = *json ? 0 : -ENOMEM;
	}
	freeReplyObject(reply);
	return ret;
}

static char *item_to_json(MYSQL_ROW row)
{
	json_t *obj;
	char *text;

	obj = json_pack("{s:I,s:s,s:s}", "id",
			(json_int_t)strtoll(row[0], NULL, 10), "name", row[1],
			"price", row[2]);
	if (!obj)
		return NULL;
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return text;
}

/* Reads the database; 0 with *json (the caller's), -ENOENT, or -EIO. */
static int item_from_db(struct demo_store *s, uint32_t id, char **json)
{
	char sql[128];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ret;

	snprintf(sql, sizeof(sql),
		 "SELECT id, name, price FROM items WHERE id = %" PRIu32, id);
	ret = mysql_call(s, sql);
	if (ret < 0)
		return ret;
	res = mysql_store_result(s->mysql);
	if (!res)
		return -EIO;
	row = mysql_fetch_row(res);
	if (!row || !row[0] || !row[1] || !row[2]) {
		ret = -ENOENT;
	} else {
		*json = item_to_json(row);
		ret = *json ? 0 : -ENOMEM;
	}
	mysql_free_result(res);
	return ret;
}

int demo_store_item(struct demo_store *s, uint32_t id, char **json,
		    bool *cached)
{
	redisReply *reply;
	int ret;

	*json = NULL;
	*cached = false;
	if (store_ready(s, true, false) < 0)
		return -EIO;
	ret = item_from_cache(s, id, json);
	if (ret != -ENOENT) {
		*cached = ret == 0;
		return ret;
	}
	if (store_ready(s, false, true) < 0)
		return -EIO;
	ret = item_from_db(s, id, json);
	if (ret < 0)
		return ret;
	/* The item is served even when caching it fails. */
	if (s->redis) {
		reply = redis_call(s, "SET item:%" PRIu32 " %s EX %d", id,
				   *json, ITEM_CACHE_TTL_S);
		freeReplyObject(reply);
	}
	return 0;
}

int demo_store_order(struct demo_store *s, uint32_t item_id, uint32_t qty,
		     uint64_t *order_id, int64_t *count)
{
	redisReply *reply;
	char sql[128];
	int ret;

	if (store_ready(s, true, true) < 0)
		return -EIO;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO orders (item_id, qty) VALUES (%" PRIu32
		 ", %" PRIu32 ")",
		 item_id, qty);
	ret = mysql_call(s, sql);
	if (ret < 0)
		return ret;
	*order_id = mysql_insert_id(s->mysql);
	reply = redis_call(s, "INCR orders:count");
	if (!reply)
		return -EIO;
	ret = reply->type == REDIS_REPLY_INTEGER ? 0 : -EIO;
	*count = reply->integer;
	freeReplyObject(reply);
	return ret;
}

int demo_store_count_failure(struct demo_store *s)
{
	redisReply *reply;
	int ret;

	if (store_ready(s, true, false) < 0)
		return -EIO;
	reply = redis_call(s, "INCR failures:count");
	if (!reply)
		return -EIO;
	ret = reply->type == REDIS_REPLY_INTEGER ? 0 : -EIO;
	freeReplyObject(reply);
	return ret;
}

int demo_pool_open(struct demo_pool **out, const struct demo_config *cfg,
		   unsigned int n, char *err, size_t errlen)
{
	struct demo_pool *pool;
	unsigned int i;
	int ret;

	*out = NULL;
	pool = calloc(1, sizeof(*pool));
	if (pool)
		pool->stores = calloc(n, sizeof(*pool->stores));
	if (!pool || !pool->stores) {
		snprintf(err, errlen, "out of memory");
		free(pool);
		return -ENOMEM;
	}
	pool->n = n;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->freed, NULL);
	for (i = 0; i < n; i++) {
		pool->stores[i].cfg = cfg;
		ret = redis_connect(&pool->stores[i], err, errlen);
		if (ret == 0)
			ret = mysql_connect(&pool->stores[i], err, errlen);
		if (ret < 0)
			goto fail;
	}
	*out = pool;
	return 0;
fail:
	demo_pool_close(pool);
	return ret;
}

struct demo_store *demo_pool_get(struct demo_pool *pool)
{
	struct demo_store *store = NULL;
	unsigned int i;

	pthread_mutex_lock(&pool->lock);
	while (!store) {
		for (i = 0; i < pool->n && !store; i++) {
			if (!pool->stores[i].busy)
				store = &pool->stores[i];
		}
		if (!store)
			pthread_cond_wait(&pool->freed, &pool->lock);
	}
	store->busy = true;
	pthread_mutex_unlock(&pool->lock);
	return store;
}

void demo_pool_put(struct demo_pool *pool, struct demo_store *store)
{
	pthread_mutex_lock(&pool->lock);
	store->busy = false;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
}

void demo_pool_close(struct demo_pool *pool)
{
	unsigned int i;

	if (!pool)
		return;
	for (i = 0; i < pool->n; i++) {
		redisFree(pool->stores[i].redis);
		if (pool->stores[i].mysql)
			mysql_close(pool->stores[i].mysql);
	}
	pthread_cond_destroy(&pool->freed);
	pthread_mutex_destroy(&pool->lock);
	free(pool->stores);
	free(pool);
}
