"""The AWS emulator (moto's server) as a child process that can be stopped and started again.

A restart keeps the port, so the services, which were given its URL, reach it again; moto keeps
its state in memory only, so whatever was created must be created again (`LocalStack.
create_resources`). The outage test relies on exactly that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from scripts.local.processes import Child, Log, emulator_line_worth_showing, wait_until_ok
from scripts.local.resources import FAKE_CREDENTIALS


def clean_environment() -> dict[str, str]:
    """This process's environment without any AWS settings, so no child can reach AWS."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


class Emulator:
    """moto's server on `host:port`, started and stopped on request."""

    def __init__(
        self,
        host: str,
        port: int,
        log: Log,
        startup_timeout: float = 60.0,
        cancel: threading.Event | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.log = log
        self.startup_timeout = startup_timeout
        self.cancel = cancel
        self._child: Child | None = None  # None while stopped

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def child(self) -> Child:
        if self._child is None:
            raise RuntimeError("the emulator is not running")
        return self._child

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The raw process handle (the outage test stops and restarts the emulator)."""
        return self.child.process

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.running()

    def start(self) -> Child:
        env = clean_environment()
        env.update(FAKE_CREDENTIALS)
        argv = [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]
        self._child = Child("emulator", argv, self.log, env=env, show=emulator_line_worth_showing)
        wait_until_ok(
            f"{self.url}/moto-api/", self._child, self.startup_timeout, cancel=self.cancel
        )
        return self._child

    def stop(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.stop()
