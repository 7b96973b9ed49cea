"""A real SMTP server on a loopback port for the message tests (Python 3.11's smtpd, in a thread).

Keeps every message it accepts; a message to an address in `refuse` is answered 550 and kept
nowhere, as a mailbox that does not exist yet would be.
"""

from __future__ import annotations

import threading
import warnings

with warnings.catch_warnings():  # smtpd and asyncore: deprecated in 3.11, still the stdlib's server
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd


class LocalSmtp(smtpd.SMTPServer):
    def __init__(self) -> None:
        self._map: dict = {}
        super().__init__(("127.0.0.1", 0), None, map=self._map, decode_data=False)
        self.port = self.socket.getsockname()[1]
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-smtp", daemon=True)

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        if self.refuse & set(rcpttos):
            return "550 mailbox unavailable"
        self.messages.append((mailfrom, list(rcpttos), data))
        return None

    def _serve(self) -> None:
        while not self._stop.is_set():
            asyncore.loop(timeout=0.05, count=1, map=self._map)

    def __enter__(self) -> LocalSmtp:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.close()
        for channel in list(self._map.values()):
            channel.close()
