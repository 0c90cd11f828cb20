"""A real webhook receiver on loopback for the tests: a stdlib HTTP server in a thread on
a free port that checks each POST as any receiver of our notices should
(``adapters.notifications.webhooks.verify``: the secret, the timestamp's window) and keeps
what it accepted. It can answer 500 to its first requests (``fail_first``), as a receiver
having a bad moment does, and be taken down and brought back up on the same address, so a
delivery's retries can be watched from the receiving end: the same ``webhook-id`` each
time, one notice however many attempts.

    with running_receiver(secret) as receiver:
        webhooks.post(receiver.url, secret, "ntc_1", {"type": "check.due"})
        assert receiver.received == [("ntc_1", {"type": "check.due"})]
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from adapters.notifications import webhooks
from tests.tsa import Answering

HOST = "127.0.0.1"


@dataclass
class Receiver:
    """A running receiver: its address, the secret it checks with, the (webhook-id,
    notice) of each request it accepted in order of arrival, how many requests came
    (accepted, failed on purpose or rejected), the webhook-id header of each of them, and
    why each rejected one was."""

    __test__: ClassVar[bool] = False  # a helper, not a test class for pytest to collect

    url: str
    secret: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    attempts: int = 0
    fail_first: int = 0
    seen: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    on_accept: Callable[[], None] | None = None  # run after noting a request, before answering
    _port: int = field(default=0, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _held: socket.socket | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def down(self) -> None:
        """Stop answering until ``up``: a connection to ``url`` is refused at once. The
        port stays bound (not listening), so nothing else is given it meanwhile."""
        self._stop_serving()
        if self._held is None:
            held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            held.bind((HOST, self._port))
            self._held = held

    def up(self) -> None:
        """Answer again, on the same address."""
        if self._server is not None:
            return
        if self._held is not None:
            self._held.close()
            self._held = None
        self._serve()

    def stop(self) -> None:
        """Stop for good and free the port."""
        self._stop_serving()
        if self._held is not None:
            self._held.close()
            self._held = None

    def _serve(self) -> None:
        server = ThreadingHTTPServer((HOST, self._port), _handler(self))
        server.daemon_threads = True
        self._port = server.server_address[1]
        self.url = f"http://{HOST}:{self._port}/hooks/kringloop"
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        self._server, self._thread = server, thread

    def _stop_serving(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _take(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """The status and body to answer a POST with, what it was noted."""
        with self._lock:
            self.attempts += 1
            self.seen.append(headers.get("webhook-id", ""))
            if self.attempts <= self.fail_first:
                return 500, b"failing on purpose (fail_first)\n"
            try:
                webhooks.verify(self.secret, headers, body)
            except webhooks.WebhookRejected as error:
                self.rejected.append(str(error))
                return 401, f"rejected: {error}\n".encode()
            notice = json.loads(body)
            if not isinstance(notice, dict):
                self.rejected.append("the body is not a JSON object")
                return 400, b"expected a JSON object\n"
            self.received.append((headers["webhook-id"], notice))
            return 200, b"received\n"


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Receiving(Answering):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = receiver._take(headers, body)
            if status == 200 and receiver.on_accept is not None:
                receiver.on_accept()  # e.g. kill the sender: it never hears the answer
            self.answer(status, "text/plain; charset=utf-8", answer)

    return Receiving


def start_receiver(secret: str, fail_first: int = 0) -> Receiver:
    """A receiver checking with ``secret``, answering on a free loopback port, failing
    (500) its first ``fail_first`` requests. Stop it with ``stop``."""
    receiver = Receiver(url="", secret=secret, fail_first=fail_first)
    receiver._serve()
    return receiver


@contextmanager
def running_receiver(secret: str, fail_first: int = 0) -> Iterator[Receiver]:
    """A receiver (as ``start_receiver``) for the block, stopped after it."""
    receiver = start_receiver(secret, fail_first)
    try:
        yield receiver
    finally:
        receiver.stop()
