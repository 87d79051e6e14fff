/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cnd --bus-introspect: the introspection XML of one of cnd's interfaces, as the files in
 * /usr/share/dbus-1/interfaces/ hold it. Needs no bus, no connector socket and no privileges. */

#include <stdio.h>

/* Writes the document of the named interface to out, or with "list" the names of all of cnd's
 * interfaces, one a line. An interface cnd does not have is logged and gives -ENOENT. */
int bus_introspect(FILE *out, const char *interface);
