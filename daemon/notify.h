/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The classic id-notification protocol on {-1,-1} (cnfeed(4)), cnd's side: with [Notify] Group=
 * set, cnd asks the kernel's notification service for every id change on that group and turns
 * each notification into IdAdded/IdRemoved at once; the /proc/net/connector scan names the ids
 * and stays the fallback. */

#include <linux/connector.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct Manager Manager;

/* The request (group != 0) or its removal (group == 0) covering every id, as bytes. */
#define NOTIFY_REQUEST_SIZE (16 + 4 * 8)
void notify_build_request(uint8_t buf[static NOTIFY_REQUEST_SIZE], uint32_t group);

/* Sends the request for m->notify_group, or its removal. No-op without a group. */
void notify_subscribe(Manager *m);
void notify_unsubscribe(Manager *m);

/* A cn_msg that came on the notification group. Returns false if it is no notification. */
bool notify_handle_message(Manager *m, const struct cn_msg *msg);
