/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The classic id-notification protocol on {-1,-1} (cnfeed(4)), cnd's side, as a family: with
 * [Notify] Group= set, cnd asks the kernel's notification service for every id change on that
 * group and turns each notification into IdAdded/IdRemoved at once; the /proc/net/connector scan
 * names the ids and stays the fallback. */

#include <string.h>

#include "cnfeed.h"
#include "family.h"

typedef struct NotifyFamily {
        uint32_t group;                 /* where notifications come and our request asked for; 0 = none */
} NotifyFamily;

/* The request (group != 0) or its removal (group == 0) covering every id. */
#define NOTIFY_REQUEST_SIZE (sizeof(struct cn_ctl_msg) + 4 * sizeof(struct cn_notify_req))

static void build_request(uint8_t buf[static NOTIFY_REQUEST_SIZE], uint32_t group) {
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

static void send_request(FamilyContext *ctx, uint32_t group) {
        uint8_t buf[NOTIFY_REQUEST_SIZE];
        int r;

        build_request(buf, group);
        /* The kernel drops a message to an id nobody registered: harmless while no notification
         * service is loaded, and the request goes out again when {-1,-1} appears. */
        r = ctx->ops->send(ctx->userdata, CNFEED_NOTIFY_IDX, CNFEED_NOTIFY_VAL, buf, sizeof(buf), NULL, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to send the id-notification %s: %m",
                                  group ? "request" : "removal");
}

static uint32_t notify_groups(const Config *c) {
        return c->notify_group ? GROUP_BIT(c->notify_group) : 0;
}

static void notify_subscribe(FamilyContext *ctx, void *state) {
        NotifyFamily *n = state;

        n->group = ctx->config->notify_group;
        if (n->group != 0)
                send_request(ctx, n->group);
}

static void notify_unsubscribe(FamilyContext *ctx, void *state) {
        NotifyFamily *n = state;

        if (n->group != 0)
                send_request(ctx, 0);
}

static void notify_reconfigured(FamilyContext *ctx, void *state, const Config *old) {
        NotifyFamily *n = state;

        if (n->group == ctx->config->notify_group)
                return;
        notify_unsubscribe(ctx, n);
        notify_subscribe(ctx, n);
}

/* Every time, not only when {-1,-1} appears: a notification service unloaded and loaded again
 * between two scans has forgotten our request. It ignores one it holds already. */
static void notify_scanned(FamilyContext *ctx, void *state, const ConnectorEntry *entries, size_t n_entries) {
        NotifyFamily *n = state;

        if (n->group == 0)
                return;
        for (size_t i = n_entries; i > 0; i--)
                if (entries[i - 1].idx == CNFEED_NOTIFY_IDX && entries[i - 1].val == CNFEED_NOTIFY_VAL) {
                        send_request(ctx, n->group);
                        return;
                }
}

static bool notify_intercept(FamilyContext *ctx, void *state, unsigned group, const struct cn_msg *msg) {
        NotifyFamily *n = state;
        bool added = msg->ack == CNFEED_NOTIFY_ADDED;
        int r;

        /* A notification carries nothing but the id and whether it came or went. */
        if (group == 0 || group != n->group || msg->len != 0 || msg->seq != 0 || msg->ack > CNFEED_NOTIFY_REMOVED)
                return false;

        log_debug("Notification: connector id %u:%u %s.", msg->id.idx, msg->id.val,
                  added ? "added" : "removed");
        r = idtable_set_registered(ctx->ids, msg->id.idx, msg->id.val, added);
        if (r < 0)
                log_oom();
        else if (r > 0)
                ctx->ops->ids_changed(ctx->userdata);
        /* The scan soon after names the id and corrects any notification that arrived late. */
        ctx->ops->request_rescan(ctx->userdata);
        return true;
}

const Family family_notify = {
        .name = "id notification",
        .state_size = sizeof(NotifyFamily),
        .groups = notify_groups,
        .subscribe = notify_subscribe,
        .unsubscribe = notify_unsubscribe,
        .reconfigured = notify_reconfigured,
        .scanned = notify_scanned,
        .intercept = notify_intercept,
};
