/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: one-line messages on stderr. */
#ifndef NMCTL_MSG_H
#define NMCTL_MSG_H

#define NM_PROG "numamigctl"

/*
 * Every message is exactly one line, written with one write(2), so that
 * scripts can rely on "numamigctl: <what>: <why>" and progress output on
 * the same stream is not torn.
 */

/* "numamigctl: <fmt>: <strerror(err)>[ (<hint>)]"; hint may be NULL/"". */
void nm_err(int err, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "numamigctl: <fmt>" - usage errors and failures without an errno. */
void nm_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "numamigctl: warning: <fmt>" */
void nm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
