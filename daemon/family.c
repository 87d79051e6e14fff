/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "family.h"
#include "manager.h"

extern const Family family_proc;
extern const Family family_notify;

/* A decoded family added to cnd is a file of its own and a line here. */
const Family *const families[] = {
        &family_proc,
        &family_notify,
};

const size_t n_families = ELEMENTSOF(families);

_Static_assert(ELEMENTSOF(families) <= FAMILIES_MAX, "raise FAMILIES_MAX");

static int alloc_state(Manager *m, size_t i) {
        m->family_state[i] = calloc(1, MAX(families[i]->state_size, (size_t) 1));
        return m->family_state[i] ? 0 : -ENOMEM;
}

int families_alloc(Manager *m) {
        for (size_t i = 0; i < n_families; i++)
                if (alloc_state(m, i) < 0)
                        return -ENOMEM;
        return 0;
}

void families_free(Manager *m) {
        for (size_t i = 0; i < n_families; i++)
                m->family_state[i] = mfree(m->family_state[i]);
}

int families_init(Manager *m) {
        /* Each state just before its init: when one fails, the later ones have none, and
         * families_done() skips them. */
        for (size_t i = 0; i < n_families; i++) {
                int r = alloc_state(m, i);

                if (r < 0)
                        return r;
                if (!families[i]->init)
                        continue;
                r = families[i]->init(m, m->family_state[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

void families_done(Manager *m) {
        for (size_t i = 0; i < n_families; i++)
                if (m->family_state[i] && families[i]->done)
                        families[i]->done(m->family_state[i]);
        families_free(m);
}

const Family *family_for_id(uint32_t idx, uint32_t val) {
        for (size_t i = 0; i < n_families; i++)
                if (families[i]->decodes && families[i]->decodes(idx, val))
                        return families[i];
        return NULL;
}

void *family_state(Manager *m, const Family *f) {
        for (size_t i = 0; i < n_families; i++)
                if (families[i] == f)
                        return m->family_state[i];
        return NULL;
}

uint32_t families_groups(const Config *c) {
        uint32_t groups = 0;

        for (size_t i = 0; i < n_families; i++)
                if (families[i]->groups)
                        groups |= families[i]->groups(c);
        return groups;
}

bool families_intercept(Manager *m, unsigned group, const struct cn_msg *msg) {
        for (size_t i = 0; i < n_families; i++)
                if (families[i]->intercept && families[i]->intercept(m, m->family_state[i], group, msg))
                        return true;
        return false;
}

int families_bus_setup(Manager *m) {
        for (size_t i = 0; i < n_families; i++)
                if (families[i]->bus_setup) {
                        int r = families[i]->bus_setup(m, m->family_state[i]);

                        if (r < 0)
                                return r;
                }
        return 0;
}

void families_status(Manager *m, char *buf, size_t size) {
        size_t k = 0;

        for (size_t i = 0; i < n_families && k < size; i++) {
                const char *status = families[i]->status ? families[i]->status(m->family_state[i]) : NULL;

                if (status)
                        k += (size_t) snprintf(buf + k, size - k, " %s", status);
        }
}
