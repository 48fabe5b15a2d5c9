"""Helpers of the sandbox tests: a listening socket (TCP on 127.0.0.1, or a Unix socket on disk) that counts
who connected, so a test can assert that sandboxed code reached nothing."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path


class Listener:
    """Accepts and counts connections until `close()`; `path` makes it a Unix socket, else TCP on 127.0.0.1."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.connections = 0
        if path is None:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(str(path))
            os.chmod(path, 0o777)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        self.sock.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
