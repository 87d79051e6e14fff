/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The D-Bus string escaping, on arbitrary bytes: the escape is a D-Bus string at most four
 * times as long that unescapes to the bytes; valid text without a backslash is its own
 * escape; and unescaping arbitrary text never reads past it nor grows it. The escaping of
 * controls for terminals and JSON leaves no control raw (C0 aside in JSON, json-c's) and
 * only valid UTF-8. */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "utf8.h"

static void check_controls_escaped(const char *text) {
        char *out;
        size_t len;

        if (utf8_escape_controls(text, &out) < 0)
                abort();
        len = strlen(out);
        if (len > 4 * strlen(text))
                abort();
        for (size_t i = 0; i < len; i++)
                if (utf8_control_length(out + i, len - i) > 0)
                        abort();
        free(out);

        if (utf8_escape_json_controls(text, &out) < 0)
                abort();
        len = strlen(out);
        for (size_t i = 0; i < len; i++)
                if (utf8_control_length(out + i, len - i) > 0 && (unsigned char) out[i] >= 0x20)
                        abort();
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *out, *back, *text;
        size_t n, len;

        if (utf8_escape(data, size, &out) < 0)
                abort();
        len = strlen(out);
        if (len > 4 * size || !utf8_is_dbus_string(out, len))
                abort();
        if (utf8_unescape(out, &back, &n) < 0 || n != size || memcmp(back, data, size) != 0)
                abort();
        if (utf8_is_dbus_string((const char *) data, size) && !memchr(data, '\\', size) &&
            (len != size || memcmp(out, data, size) != 0))
                abort();
        free(out);
        free(back);

        /* A NUL-terminated copy, cut at the first NUL as a C string would be. Not strndup():
         * ASan's interceptor reads one byte past a buffer that holds no NUL. */
        text = malloc(size + 1);
        if (!text)
                abort();
        memcpy(text, data, size);
        text[size] = 0;
        if (utf8_unescape(text, &back, &n) >= 0) {
                if (n > strlen(text))
                        abort();
                free(back);
        }
        check_controls_escaped(text);
        free(text);
        return 0;
}
