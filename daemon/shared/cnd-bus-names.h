/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Every name of cnd's D-Bus API, in one place: the daemon, cnctl and the tests (which read this
 * file) use these. org.cnd.Connector1(5) documents them. */

#define CND_BUS_NAME "org.cnd.Connector1"

#define CND_MANAGER_PATH "/org/cnd/Connector1"
#define CND_ID_PATH_PREFIX "/org/cnd/Connector1/id"
#define CND_PROC_PATH "/org/cnd/Connector1/proc"
#define CND_PROCESSES_PATH "/org/cnd/Connector1/processes"

#define CND_MANAGER_IFACE "org.cnd.Connector1.Manager"
#define CND_ID_IFACE "org.cnd.Connector1.Id"
#define CND_PROC_IFACE "org.cnd.Connector1.Proc"
#define CND_PROCESSES_IFACE "org.cnd.Connector1.Processes"

#define CND_ERROR_TIMEOUT "org.cnd.Connector1.Error.Timeout"
#define CND_ERROR_NO_SUCH_ID "org.cnd.Connector1.Error.NoSuchId"
#define CND_ERROR_NO_SUCH_PROCESS "org.cnd.Connector1.Error.NoSuchProcess"
#define CND_ERROR_TOO_LARGE "org.cnd.Connector1.Error.TooLarge"
#define CND_ERROR_LIMITS_EXCEEDED "org.cnd.Connector1.Error.LimitsExceeded"
#define CND_ERROR_KERNEL "org.cnd.Connector1.Error.KernelError"
#define CND_ERROR_INVALID_CONFIG "org.cnd.Connector1.Error.InvalidConfig"
