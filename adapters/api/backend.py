"""What one running app holds: the settings, the engine and the read store, opened once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from adapters.api import users
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from domain.engine import Engine
from projections.runner import Runner
from projections.store import ReadStore


@dataclass
class Backend:
    """Opens the stores on first use (never at import) and closes them at shutdown."""

    settings: Settings
    last_verify: dict[str, Any] | None = None
    _engine: Engine | None = field(default=None, repr=False)
    _reads: ReadStore | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = open_engine(self.settings)
        return self._engine

    @property
    def read_store(self) -> ReadStore:
        if self._reads is None:
            with self._lock:
                if self._reads is None:
                    reads = open_read_store(self.settings)
                    users.create_table(reads.engine)
                    self._reads = reads
        return self._reads

    @property
    def runner(self) -> Runner:
        return Runner(self.engine, self.read_store)

    def fresh_reads(self) -> ReadStore:
        """The read store, caught up with every event recorded so far (also by the CLI)."""
        runner = self.runner
        if runner.position() < runner.head():
            runner.catch_up()
        return self.read_store

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._reads is not None:
            self._reads.close()
            self._reads = None
