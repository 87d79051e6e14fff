/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The relay (relay.c): the connector socket's event handler. Reads what the socket holds and
 * hands each frame on: to a family, to waiting requests, to the bus; then flushes the batches
 * and reports loss. userdata is the Manager. */

#include <stdint.h>
#include <systemd/sd-event.h>

int relay_on_netlink_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
