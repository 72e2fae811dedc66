"""Hostile endpoints for `--scheduler` (issue 17): a port that accepts and never answers, and
one that answers with bytes no Dask scheduler sends (a length prefix of about 2^64).

They live in the process that generates the corpus (threads), so the fuzz workers forked from
it, and real `designer` processes, can connect to them.
"""

from __future__ import annotations

import functools
import socket
import threading


def _listener() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(128)  # the kernel completes up to 128 connections nobody accepts
    return s


@functools.lru_cache(maxsize=1)
def silent() -> str:
    """An address whose connections are accepted (by the kernel) and never answered."""
    s = _listener()
    silent.socket = s  # kept open for the life of the process
    return f"tcp://127.0.0.1:{s.getsockname()[1]}"


@functools.lru_cache(maxsize=1)
def garbage() -> str:
    """An address that answers every connection with 0xff bytes (a frame of 2^64 - 1 bytes)."""
    s = _listener()

    def serve() -> None:
        conns = []
        while True:
            try:
                c, _ = s.accept()
                c.sendall(b"\xff" * 64)
                conns.append(c)  # left open: the reader waits for the frame it was promised
            except OSError:
                return

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{s.getsockname()[1]}"
