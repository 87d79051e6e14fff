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

int families_init(Manager *m) {
        for (size_t i = 0; i < n_families; i++) {
                int r;

                m->family_state[i] = calloc(1, MAX(families[i]->state_size, (size_t) 1));
                if (!m->family_state[i])
                        return -ENOMEM;
                if (!families[i]->init)
                        continue;
                r = families[i]->init(m, m->family_state[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

void families_done(Manager *m) {
        for (size_t i = 0; i < n_families; i++) {
                if (!m->family_state[i])
                        continue;
                if (families[i]->done)
                        families[i]->done(m->family_state[i]);
                m->family_state[i] = mfree(m->family_state[i]);
        }
}

const Family *family_for_id(uint32_t idx, uint32_t val, size_t *ret_index) {
        for (size_t i = 0; i < n_families; i++)
                if (families[i]->decodes && families[i]->decodes(idx, val)) {
                        if (ret_index)
                                *ret_index = i;
                        return families[i];
                }
        return NULL;
}
