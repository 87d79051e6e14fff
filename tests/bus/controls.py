# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a terminal acts on instead of showing it, by class, as cnctl(1) names them: what the
tests' hostile names, paths and arguments carry, what no line shown to a person may hold raw,
and how cnctl and the examples show it (each byte of the character as \\xNN)."""

CLASSES = {
    'C0': '\x1b\x07\n',                     # ESC, BEL, newline
    'DEL': '\x7f',
    'C1': '\u009b\u009d',                   # CSI, OSC
    'bidi': '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069',
}
EVERY = ''.join(CLASSES.values())


def is_control(c):
    o = ord(c)
    return o < 0x20 or 0x7f <= o <= 0x9f or 0x202a <= o <= 0x202e or 0x2066 <= o <= 0x2069


def raw_controls(text):
    """The controls in text, and the bytes that were not UTF-8 (decoded with surrogateescape)."""
    return [c for c in text if is_control(c) or 0xdc80 <= ord(c) <= 0xdcff]


def shown(text):
    """text as cnctl's text and the examples show it: each byte of a control as \\xNN."""
    return ''.join(''.join(f'\\x{b:02x}' for b in c.encode()) if is_control(c) else c for c in text)
