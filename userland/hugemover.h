/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: keep huge pages huge (the KEEP_HUGE mover). */
#ifndef HUGEMOVER_H
#define HUGEMOVER_H

#include <stdbool.h>
#include <linux/numamig.h>

#include "nmctl_ioctl.h"

/*
 * Ask for KEEP_HUGE in @m when the module has it (and @split is false).
 * Return: whether it was asked.
 */
bool huge_keep_request(const struct nmctl_dev *dev, struct numamig_migrate *m,
		       bool split);

/*
 * Start the detached mover of the job @m started (if @m asked for
 * KEEP_HUGE).  Without one the job splits its huge pages, as before.
 * Return: 0, or -errno when no mover could be started.
 */
int huge_mover_start(const struct numamig_migrate *m);

#endif
