/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The family table (family-table.c): every family of family.h, their states and the calls the
 * Manager and the relay make on all of them. */

#include "family.h"

/* The table. Each family's state lives in the FamilyContext; only family-table.c and
 * FAMILIES_CALL() below index it. */
extern const Family *const families[];
extern const size_t n_families;

/* Each family's state, zeroed, and its init hook / its done hook and the state freed. */
int families_init(FamilyContext *ctx);
void families_done(FamilyContext *ctx);
/* The states alone, zeroed and freed, no hook run: for objects that are only looked at
 * (--bus-introspect). */
int families_alloc(FamilyContext *ctx);
void families_free(FamilyContext *ctx);

/* The family that decodes (idx, val), or NULL. */
const Family *family_for_id(uint32_t idx, uint32_t val);
/* Its state in ctx. */
void *family_state(FamilyContext *ctx, const Family *f);

/* The groups every family's configuration needs joined. */
uint32_t families_groups(const Config *c);
/* Offers msg to every family's intercept hook: true if one took it. */
bool families_intercept(FamilyContext *ctx, unsigned group, const struct cn_msg *msg);
/* Hands the families bus, then runs every bus_setup hook, in the table's order; stops at the
 * first error. */
int families_bus_setup(FamilyContext *ctx, sd_bus *bus);
/* Every family's status, each after a space, into buf. */
void families_status(FamilyContext *ctx, char *buf, size_t size);

/* Calls hook(ctx, state, args...) on every family that has it. */
#define FAMILIES_CALL(ctx, hook, ...)                                                              \
        do {                                                                                       \
                for (size_t _i_ = 0; _i_ < n_families; _i_++)                                      \
                        if (families[_i_]->hook)                                                   \
                                families[_i_]->hook((ctx), (ctx)->state[_i_], ##__VA_ARGS__);      \
        } while (0)
