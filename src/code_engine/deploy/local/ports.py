"""Free TCP ports for new instances."""

from __future__ import annotations

import socket
from collections.abc import Collection


def free_port(host: str = "127.0.0.1", avoid: Collection[int] = ()) -> int:
    """A port nobody listens on now (the kernel picks it); skips ports in `avoid`."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port
    raise OSError("no free port found")
