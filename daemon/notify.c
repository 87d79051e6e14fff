/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "../kernel/cnfeed.h"
#include "manager.h"
#include "notify.h"

void notify_build_request(uint8_t buf[static NOTIFY_REQUEST_SIZE], uint32_t group) {
        /* A range is first <= x < first + range: two ranges are needed to reach 0xffffffff. */
        static const struct cn_notify_req all[2] = {
                { .first = 0, .range = UINT32_MAX },
                { .first = UINT32_MAX, .range = 1 },
        };
        struct cn_ctl_msg ctl = {
                .idx_notify_num = 2,
                .val_notify_num = 2,
                .group = group,
                .len = 4 * sizeof(struct cn_notify_req),
        };

        memcpy(buf, &ctl, sizeof(ctl));
        memcpy(buf + sizeof(ctl), all, sizeof(all));                  /* idx ranges */
        memcpy(buf + sizeof(ctl) + sizeof(all), all, sizeof(all));    /* val ranges */
}

static void send_request(Manager *m, uint32_t group) {
        uint8_t buf[NOTIFY_REQUEST_SIZE];
        int r;

        notify_build_request(buf, group);
        /* The kernel drops a message to an id nobody registered: harmless while no notification
         * service is loaded, and the request goes out again when {-1,-1} appears. */
        r = manager_send(m, CNFEED_NOTIFY_IDX, CNFEED_NOTIFY_VAL, buf, sizeof(buf), NULL, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to send the id-notification %s: %m",
                                  group ? "request" : "removal");
}

void notify_subscribe(Manager *m) {
        if (m->notify_group != 0)
                send_request(m, m->notify_group);
}

void notify_unsubscribe(Manager *m) {
        if (m->notify_group != 0)
                send_request(m, 0);
}

bool notify_handle_message(Manager *m, const struct cn_msg *msg) {
        bool added = msg->ack == CNFEED_NOTIFY_ADDED;
        int r;

        /* A notification carries nothing but the id and whether it came or went. */
        if (msg->len != 0 || msg->seq != 0 || msg->ack > CNFEED_NOTIFY_REMOVED)
                return false;

        log_debug("Notification: connector id %u:%u %s.", msg->id.idx, msg->id.val,
                  added ? "added" : "removed");
        r = idtable_set_registered(&m->ids, msg->id.idx, msg->id.val, added);
        if (r < 0)
                log_oom();
        else if (r > 0)
                (void) bus_manager_emit_ids_changed(m);
        /* The scan soon after names the id and corrects any notification that arrived late. */
        manager_request_rescan(m);
        return true;
}
