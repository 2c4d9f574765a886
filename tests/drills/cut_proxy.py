"""A TCP proxy in front of one server that can be cut and restored, so a drill can make a
server unreachable without stopping the shared one other tests use.

``cut()`` behaves like a stopped server: the listening socket closes (new connections are
refused: ECONNREFUSED) and every connection open through the proxy is reset (pooled
connections break on their next use). ``restore()`` listens on the same port again.
The server itself, and every connection that does not go through the proxy, never notice."""

from __future__ import annotations

import socket
import threading
import time


class CuttableProxy:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1"):
        self.upstream = (host, upstream_port)
        self.host = host
        self.port = 0
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._sock: socket.socket | None = None
        self.cut_count = 0
        self._listen()

    # ------------------------------------------------------------------ control

    @property
    def is_cut(self) -> bool:
        return self._sock is None

    def cut(self) -> None:
        """Refuse new connections and reset every open one."""
        with self._lock:
            sock, self._sock = self._sock, None
            pairs, self._pairs = self._pairs, set()
        if sock is not None:
            sock.close()
        for a, b in pairs:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        self.cut_count += 1

    def restore(self) -> None:
        """Listen on the same port again (idempotent)."""
        if self._sock is None:
            self._listen()

    def close(self) -> None:
        self.cut()

    def dsn(self, direct_dsn: str, upstream_port: int) -> str:
        """``direct_dsn`` with its port replaced by the proxy's."""
        old = f":{upstream_port}/"
        assert old in direct_dsn, "the dsn does not name the upstream port"
        return direct_dsn.replace(old, f":{self.port}/", 1)

    # ------------------------------------------------------------------ plumbing

    def _listen(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((self.host, self.port))
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        s.listen(64)
        self.port = s.getsockname()[1]
        with self._lock:
            self._sock = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return                      # cut
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = (client, server)
            with self._lock:
                if self._sock is not listener:      # cut while connecting
                    client.close()
                    server.close()
                    return
                self._pairs.add(pair)
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst, pair), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, pair) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._pairs.discard(pair)
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
