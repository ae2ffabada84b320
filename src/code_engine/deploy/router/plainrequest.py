"""The common request, read without the parser.

Most requests a service gets are one whole keep-alive HTTP/1.1 `GET` or `HEAD` in one
read, with no body and no header the proxy has to act on. For those the upstream head is
the client's head plus the `X-Forwarded-*` headers, so the proxy can skip the parser's
callbacks and the rebuilding of every header line. Anything else — a body, hop-by-hop
or `X-Forwarded-*` headers from the client, folded or bare-LF lines, several requests in
one read — goes through the parser as before.
"""

from __future__ import annotations

import re

PLAIN_METHODS = (b"GET ", b"HEAD ")

# In a lowered head: a header the proxy must frame by, drop or rewrite, whitespace before
# a colon, a folded line, or a line feed without its carriage return.
NEEDS_PARSER = re.compile(
    rb"\r\n(?:connection|keep-alive|proxy-[a-z-]*|te|trailer|transfer-encoding|upgrade"
    rb"|content-length|expect|x-forwarded-[a-z-]*)[ \t]*:|\n[ \t]|[^\r]\n"
)


def plain_request(data: bytes, client_ip: bytes) -> bytes | None:
    """The head to send upstream when `data` is exactly one plain request, else None."""
    end = data.find(b"\r\n\r\n")
    if end < 0 or end != len(data) - 4 or not data.startswith(PLAIN_METHODS):
        return None
    line = data[: data.find(b"\r\n")]
    if not line.endswith(b" HTTP/1.1") or line.count(b" ") != 2:
        return None
    lowered = data.lower()
    if NEEDS_PARSER.search(lowered) is not None:
        return None
    at = lowered.find(b"\r\nhost:")
    if at < 0 or lowered.find(b"\r\nhost:", at + 7) >= 0:
        return None  # HTTP/1.1 requires exactly one: let the parser path decide
    host = data[at + 7 : data.find(b"\r\n", at + 2)].strip(b" \t")
    return b"".join(
        (
            data[:-2],
            b"x-forwarded-for: ",
            client_ip,
            b"\r\nx-forwarded-proto: http\r\nx-forwarded-host: ",
            host,
            b"\r\n\r\n",
        )
    )
