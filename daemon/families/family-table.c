/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "family-table.h"
#include "util.h"

extern const Family family_proc;
extern const Family family_notify;

/* A decoded family added to cnd is a file of its own and a line here. */
const Family *const families[] = {
        &family_proc,
        &family_notify,
};

const size_t n_families = ELEMENTSOF(families);

_Static_assert(ELEMENTSOF(families) <= FAMILIES_MAX, "raise FAMILIES_MAX");

static int alloc_state(FamilyContext *ctx, size_t i) {
        ctx->state[i] = calloc(1, MAX(families[i]->state_size, (size_t) 1));
        return ctx->state[i] ? 0 : -ENOMEM;
}

int families_alloc(FamilyContext *ctx) {
        for (size_t i = 0; i < n_families; i++)
                if (alloc_state(ctx, i) < 0)
                        return -ENOMEM;
        return 0;
}

void families_free(FamilyContext *ctx) {
        for (size_t i = 0; i < n_families; i++)
                ctx->state[i] = mfree(ctx->state[i]);
}

int families_init(FamilyContext *ctx) {
        /* Each state just before its init: when one fails, the later ones have none, and
         * families_done() skips them. */
        for (size_t i = 0; i < n_families; i++) {
                int r = alloc_state(ctx, i);

                if (r < 0)
                        return r;
                if (!families[i]->init)
                        continue;
                r = families[i]->init(ctx, ctx->state[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

void families_done(FamilyContext *ctx) {
        for (size_t i = 0; i < n_families; i++)
                if (ctx->state[i] && families[i]->done)
                        families[i]->done(ctx->state[i]);
        families_free(ctx);
}

const Family *family_for_id(uint32_t idx, uint32_t val) {
        for (size_t i = 0; i < n_families; i++)
                if (families[i]->decodes && families[i]->decodes(idx, val))
                        return families[i];
        return NULL;
}

void *family_state(FamilyContext *ctx, const Family *f) {
        for (size_t i = 0; i < n_families; i++)
                if (families[i] == f)
                        return ctx->state[i];
        return NULL;
}

uint32_t families_groups(const Config *c) {
        uint32_t groups = 0;

        for (size_t i = 0; i < n_families; i++)
                if (families[i]->groups)
                        groups |= families[i]->groups(c);
        return groups;
}

bool families_intercept(FamilyContext *ctx, unsigned group, const struct cn_msg *msg) {
        for (size_t i = 0; i < n_families; i++)
                if (families[i]->intercept && families[i]->intercept(ctx, ctx->state[i], group, msg))
                        return true;
        return false;
}

int families_bus_setup(FamilyContext *ctx, sd_bus *bus) {
        ctx->bus = bus;
        for (size_t i = 0; i < n_families; i++)
                if (families[i]->bus_setup) {
                        int r = families[i]->bus_setup(ctx, ctx->state[i]);

                        if (r < 0)
                                return r;
                }
        return 0;
}

void families_status(FamilyContext *ctx, char *buf, size_t size) {
        size_t k = 0;

        for (size_t i = 0; i < n_families && k < size; i++) {
                const char *status = families[i]->status ? families[i]->status(ctx->state[i]) : NULL;

                if (status)
                        k += (size_t) snprintf(buf + k, size - k, " %s", status);
        }
}
