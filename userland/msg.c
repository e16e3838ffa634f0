// SPDX-License-Identifier: GPL-2.0
/* numamigctl: one-line messages on stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

#define MSG_MAX 1024

/* Write the whole line at once; a failing stderr leaves nothing to tell. */
static void emit(const char *line)
{
	size_t len = strlen(line);

	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, line, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

/* Join prefix, formatted text and suffix; truncate rather than wrap. */
static void compose(const char *prefix, const char *suffix,
		    const char *fmt, va_list ap)
{
	char buf[MSG_MAX];
	int n;

	n = snprintf(buf, sizeof(buf), "%s: %s", NM_PROG, prefix);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	n = (int)strlen(buf);
	snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", suffix);
	/*
	 * One message, one line: a path or a name with a control character
	 * in it must not break the line; keep the newline when truncated.
	 */
	n = (int)strlen(buf);
	for (int i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	if ((size_t)n == sizeof(buf) - 1)
		n--;
	buf[n] = '\n';
	buf[n + 1] = '\0';
	emit(buf);
}

void nm_err(int err, const char *hint, const char *fmt, ...)
{
	char suffix[512];
	va_list ap;

	if (hint && *hint)
		snprintf(suffix, sizeof(suffix), ": %s (%s)", strerror(err), hint);
	else
		snprintf(suffix, sizeof(suffix), ": %s", strerror(err));
	va_start(ap, fmt);
	compose("", suffix, fmt, ap);
	va_end(ap);
}

void nm_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	compose("", "", fmt, ap);
	va_end(ap);
}

void nm_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	compose("warning: ", "", fmt, ap);
	va_end(ap);
}
