/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The netlink/connector frame validator, on arbitrary datagrams. */

#include <stdlib.h>
#include <string.h>

#include "cnmsg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Netlink data is 4-byte aligned in the socket buffer; so is cnd's. */
        uint8_t *buf = aligned_alloc(8, (size + 7) & ~(size_t) 7);
        CnDatagram d;
        unsigned frames = 0, counted;

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        cn_datagram_init(&d, buf, size);
        counted = cn_datagram_count(d);
        for (;;) {
                CnFrame f = cn_datagram_next(&d);

                if (f.kind == CN_FRAME_END)
                        break;
                frames++;
                if (f.kind == CN_FRAME_MESSAGE) {
                        /* Every byte of an accepted message must lie in the datagram. */
                        const uint8_t *p = f.msg->data;

                        if (p < buf || p + f.msg->len > buf + size)
                                abort();
                        unsigned long sum = 0;

                        /* Read every byte, so that ASan sees any overrun. */
                        for (size_t i = 0; i < f.msg->len; i++)
                                sum += p[i];
                        if (sum > 255UL * f.msg->len)
                                abort();
                }
                if (frames > size / 4 + 1)
                        abort();        /* the walk must make progress */
        }
        if (frames != counted)
                abort();
        free(buf);
        return 0;
}
