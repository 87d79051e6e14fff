/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verbs of cnctl, one file each or a few to a file (verb-*.c); cnctl.c dispatches to them
 * and they know nothing of it: what they share is the context (context.h). */

#include "context.h"

int verb_status(Cnctl *c, int argc, char *argv[]);
int verb_ids(Cnctl *c, int argc, char *argv[]);
int verb_monitor(Cnctl *c, int argc, char *argv[]);
int verb_proc(Cnctl *c, int argc, char *argv[]);
int verb_send(Cnctl *c, int argc, char *argv[]);
int verb_request(Cnctl *c, int argc, char *argv[]);
int verb_join(Cnctl *c, int argc, char *argv[]);
int verb_leave(Cnctl *c, int argc, char *argv[]);
int verb_reload(Cnctl *c, int argc, char *argv[]);
