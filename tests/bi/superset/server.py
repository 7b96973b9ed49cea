"""A real Superset from .venv-superset on loopback, with its own SQLite metadata database.

The same sequence as the compose service (bi/superset/start.sh): `superset db upgrade`, the admin
from the environment, `superset init`, then the web server; configured by
bi/superset/superset_config.py. Nothing leaves the machine: the server binds 127.0.0.1 and the
config blocks every outside resource in the pages it serves.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[3]
VENV = REPO / ".venv-superset"
CONFIG = REPO / "bi" / "superset" / "superset_config.py"
ADMIN = "admin"


@dataclass
class SupersetServer:
    home: Path
    port: int
    admin_password: str = field(default_factory=lambda: secrets.token_hex(16))
    seconds: dict[str, float] = field(default_factory=dict)  # step -> how long it took
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPERSET_", "FLASK_"))}
        env.update(
            SUPERSET_CONFIG_PATH=str(CONFIG),
            SUPERSET_HOME=str(self.home),
            FLASK_APP="superset",
            SUPERSET_SECRET_KEY=secrets.token_hex(32),
            SUPERSET_METADATA_URI=f"sqlite:///{self.home / 'superset.db'}",
            # no proxy: every request of this test stays on loopback
            NO_PROXY="*",
            no_proxy="*",
        )
        return env

    def _run(self, step: str, *args: str) -> None:
        started = time.monotonic()
        result = subprocess.run(
            [str(VENV / "bin" / "superset"), *args],
            env=self._env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.seconds[step] = round(time.monotonic() - started, 1)
        if result.returncode != 0:
            raise RuntimeError(f"superset {step} failed ({result.returncode}):\n{result.stderr[-4000:]}")

    def start(self) -> None:
        if not (VENV / "bin" / "superset").exists():
            raise RuntimeError(f"{VENV} has no Superset: run `make setup-superset`")
        self.home.mkdir(parents=True, exist_ok=True)
        self._env = self.env()
        self._run("db upgrade", "db", "upgrade")
        self._run(
            "create-admin",
            "fab",
            "create-admin",
            "--username",
            ADMIN,
            "--firstname",
            "Quản trị",
            "--lastname",
            "TTHC",
            "--email",
            "admin@example.invalid",
            "--password",
            self.admin_password,
        )
        self._run("init", "init")
        started = time.monotonic()
        self.log = open(self.home / "server.log", "w")
        self.process = subprocess.Popen(
            [str(VENV / "bin" / "superset"), "run", "-h", "127.0.0.1", "-p", str(self.port), "--with-threads"],
            env=self._env,
            cwd=self.home,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Superset exited ({self.process.returncode}): {self.log_tail()}")
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Superset did not answer /health in 120 s: {self.log_tail()}")
            time.sleep(0.3)
        self.seconds["serve"] = round(time.monotonic() - started, 1)

    def log_tail(self, chars: int = 4000) -> str:
        return (self.home / "server.log").read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
