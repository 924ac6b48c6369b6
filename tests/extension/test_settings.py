"""Every setting of the contract exists on ProjectFileBrowser with the contract's default."""

from __future__ import annotations

from pathlib import Path

import pytest
from jupyter_core.paths import jupyter_data_dir
from traitlets import TraitError

from project_filebrowser.app import ProjectFileBrowser
from project_filebrowser.store.engine import resolve_db_url


def test_contract_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROJECT_FILEBROWSER_TOKEN", raising=False)
    app = ProjectFileBrowser()
    expected_db = Path(jupyter_data_dir()) / "project_filebrowser" / "state.db"
    assert app.db_url == f"sqlite:///{expected_db}"
    assert app.projects_dir == "projects"
    assert app.cloud_url == ""
    assert app.cloud_token == ""
    assert app.debounce_seconds == 0.2
    assert app.full_rescan_seconds == 600
    assert app.max_concurrent_transfers == 4
    assert app.max_delete_fraction == 0.5
    assert app.db_journal_mode == "WAL"


def test_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJECT_FILEBROWSER_TOKEN", "tok")
    monkeypatch.setenv("PROJECT_FILEBROWSER_DB_URL", "sqlite:////elsewhere.db")
    app = ProjectFileBrowser(db_url="sqlite:////configured.db")
    assert app.cloud_token == "tok"
    assert resolve_db_url(app.db_url) == "sqlite:////elsewhere.db"
    monkeypatch.delenv("PROJECT_FILEBROWSER_DB_URL")
    assert resolve_db_url(app.db_url) == "sqlite:////configured.db"


@pytest.mark.parametrize(
    ("trait", "value"),
    [
        ("max_delete_fraction", 1.5),
        ("max_concurrent_transfers", 0),
        ("debounce_seconds", -1),
        ("projects_dir", "../outside"),
        ("db_journal_mode", "BOGUS"),
    ],
)
def test_bad_settings_are_refused(trait: str, value: object) -> None:
    with pytest.raises(TraitError):
        ProjectFileBrowser(**{trait: value})
