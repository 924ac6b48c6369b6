"""Support of the browser tests: a real `jupyter lab` with the extension and its embedded
cloud (or a standalone one), in a folder of its own."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from support.cloud import ServerThread, start_server
from support.polling import eventually
from support.ports import free_port

CHROMIUM = Path(os.environ.get("PROJECT_FILEBROWSER_CHROMIUM", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
JUPYTER = str(Path(sys.executable).with_name("jupyter"))
START_TIMEOUT = 60.0


@dataclass
class Lab:
    """A running `jupyter lab` on loopback with its own root, config, data and state DB."""

    root: Path
    home: Path
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    # A standalone cloud to use ("" = the embedded one) and the user's token for it.
    cloud_url: str = ""
    cloud_token: str = ""
    name: str = "jupyter"
    # start() waits until the cloud is connected; False: until the server answers at all
    # (a lab whose cloud refuses it).
    wait_for_cloud: bool = True

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def url(self) -> str:
        return f"{self.base}lab?token={self.token}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def config_dir(self) -> Path:
        return self.home / "config"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("JUPYTER", "PROJECT_FILEBROWSER"))
        }
        env.update(
            HOME=str(self.home),
            JUPYTER_CONFIG_DIR=str(self.config_dir),
            JUPYTER_DATA_DIR=str(self.data_dir),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(self.config_dir / "lab" / "user-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.config_dir / "lab" / "workspaces"),
            PROJECT_FILEBROWSER_DB_URL=f"sqlite:///{self.home / 'state.db'}",
        )
        return env

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # No "news" prompt and no update check covering the panel in screenshots.
        labconfig = self.config_dir / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(
            json.dumps(
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
            )
        )

    def start(self) -> None:
        """Start the server (again, on the same port and token) and wait until it answers."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log = ARTIFACTS / f"{self.name}.log"
        command = [
            JUPYTER,
            "lab",
            "--allow-root",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            # a quiet time long enough that a local and a cloud edit made together conflict
            "--ProjectFileBrowser.debounce_seconds=1.0",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if self.cloud_url:
            command += [
                f"--ProjectFileBrowser.cloud_url={self.cloud_url}",
                f"--ProjectFileBrowser.cloud_token={self.cloud_token}",
            ]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env(), stdout=log, stderr=subprocess.STDOUT, cwd=self.root
            )
        eventually(self._ready, START_TIMEOUT, 0.25, what=f"jupyter lab to start; see {self.log}")

    def _ready(self) -> bool:
        """Whether the server answers (and has its cloud, if ``wait_for_cloud``)."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early; see {self.log}")
        try:
            status = self.api("GET", "status")
            return bool(status["cloud"]["connected"] or not self.wait_for_cloud)
        except (httpx.HTTPError, KeyError):
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    # -- REST helpers ---------------------------------------------------------------------

    def api(self, method: str, *parts: str, body: Any = None, **params: str) -> Any:
        """Call the extension's REST API with the token."""
        url = self.base + "project-filebrowser/api/" + "/".join(parts)
        response = httpx.request(
            method,
            url,
            params=params or None,
            json=body,
            headers={"Authorization": f"token {self.token}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def cloud(self) -> httpx.Client:
        """A client of the embedded cloud, as a second machine of the same user."""
        if self.cloud_url:
            return _cloud_client(self.cloud_url, self.cloud_token)
        url = self.api("GET", "status")["cloud"]["url"]
        token_file = self.data_dir / "project_filebrowser" / "cloud" / "local-token"
        token = token_file.read_text().strip()
        return _cloud_client(url, token)


def _cloud_client(url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


@dataclass
class TwoLabs:
    """Two `jupyter lab` servers (two machines of one user) on one standalone cloud, which
    runs in the test process on a loopback port and can be stopped and started again (same
    port, same metadata DB and blobs)."""

    cloud: ServerThread
    username: str
    token: str
    one: Lab
    two: Lab

    @classmethod
    def start(cls, home: Path, username: str = "ann") -> TwoLabs:
        cloud = start_server(home / "cloud", max_file_size=1 << 30)
        token = cloud.new_user(name=username).token
        labs = [
            Lab(
                root=home / name / "root",
                home=home / name,
                cloud_url=cloud.url,
                cloud_token=token,
                name=f"jupyter-{name}",
            )
            for name in ("one", "two")
        ]
        pair = cls(cloud, username, token, *labs)
        try:
            for lab in labs:
                lab.prepare()
                lab.start()
        except BaseException:
            pair.stop()
            raise
        return pair

    def stop_cloud(self) -> None:
        self.cloud.stop()

    def start_cloud(self) -> None:
        """Serve the same data on the same port again (the labs keep their URL)."""
        self.cloud = ServerThread(*self.cloud.args, port=self.cloud.port).start()

    def cloud_client(self) -> httpx.Client:
        """A client of the cloud's ``/api/v1`` as the labs' user."""
        return _cloud_client(self.cloud.url, self.token)

    def stop(self) -> None:
        for lab in (self.one, self.two):
            lab.stop()
        if self.cloud.thread.is_alive():
            self.cloud.stop()
