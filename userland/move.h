/* SPDX-License-Identifier: GPL-2.0 */
/* numamigctl: container moves as one item for status, list, wait, cancel. */
#ifndef NMCTL_MOVE_H
#define NMCTL_MOVE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/numamig.h>

#include "json.h"
#include "nmctl_ioctl.h"

/* "status mN", "wait mN", "cancel mN": return the exit status. */
int move_status_cmd(unsigned int id, bool json);
int move_wait_cmd(unsigned int id);
int move_cancel_cmd(unsigned int id);

/* The move job @job belongs to.  Return: true and *id, or false. */
bool move_of_job(__u64 job, unsigned int *id);

/*
 * "list": every move with its jobs under it (text rows or JSON objects
 * in the list's array); sets @shown[i] for the jobs of @ids it printed.
 */
void move_list_rows(struct nmctl_dev *dev, FILE *f, struct json *j,
		    const __u64 *ids, size_t n, bool *shown);

#endif
