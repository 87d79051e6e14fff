/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cnctl: what the command line asked for, handed to each verb (context.c). */

#include <systemd/sd-bus.h>

#include "output.h"

/* How monitor and proc follow cnd (--via=). */
typedef enum Via {
        VIA_DEFAULT,    /* a stream where it can carry what was asked for, else signals */
        VIA_STREAM,
        VIA_SIGNALS,
} Via;

typedef struct Cnctl {
        Output out;
        uint32_t kinds;         /* --kinds=, bits of ProcKind; 0 = every kind */
        uint32_t timeout_msec;  /* --timeout=; 0 = cnd's default */
        bool timeout_set;
        Via via;                /* --via= */
        sd_bus *bus;            /* opened by cnctl_bus() when a verb first needs it */
} Cnctl;

/* The system bus, connected on first use; NULL after printing why not. */
sd_bus *cnctl_bus(Cnctl *c);
