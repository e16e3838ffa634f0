/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: a tiny streaming JSON writer (compact, one document per line). */
#ifndef NMCTL_JSON_H
#define NMCTL_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* nothing written yet at this level */
};

/*
 * @key is the member name inside an object and must be NULL inside an
 * array or for the top-level value.  The document ends with a newline
 * when the outermost container is closed.
 */
void json_init(struct json *j, FILE *f);
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
void json_string(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, unsigned long long val);
void json_i64(struct json *j, const char *key, long long val);
void json_null(struct json *j, const char *key);
void json_bool(struct json *j, const char *key, bool val);

/* Write @s as a quoted JSON string (RFC 8259 escapes). */
void json_write_string(FILE *f, const char *s);

#endif
