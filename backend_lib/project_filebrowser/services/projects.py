"""Linked projects: list, create, link, unlink, delete, sync, and their conflict policy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from project_cloud.errors import ServiceError  # one error vocabulary for both servers
from project_cloud.schemas import project_name_problem

from ..remotes import RemoteError
from ..schemas import (
    CloudProject,
    ConflictPolicy,
    JobModel,
    LocalProject,
    ProjectRemovedEvent,
)
from ..store.models import LocalProjectRow
from ..sync.trees import is_safe_path
from .runtime import Runtime, from_cloud


def _count_files(folder: Path) -> int:
    """How many files a folder holds, at any depth (0 for a missing folder)."""
    return sum(len(files) for _dir, _dirs, files in os.walk(folder))


class Projects(Runtime):
    async def list_projects(
        self, scope: Literal["local", "cloud"]
    ) -> list[LocalProject] | list[CloudProject]:
        manager, client = self.require_manager()
        if scope == "cloud":
            try:
                return await client.projects()
            except RemoteError as exc:
                raise from_cloud(exc) from exc
        with self.require_store().read() as session:
            ids = list(session.scalars(select(LocalProjectRow.id).order_by(LocalProjectRow.name)))
        return [p for p in map(manager.describe, ids) if p is not None]

    def get_project(self, project_id: str) -> LocalProject:
        return self._local_project(project_id)

    def _folder(self, local_path: str | None, name: str) -> str:
        """A project folder relative to root_dir; refuses paths that leave it."""
        rel = local_path if local_path is not None else f"{self.settings.projects_dir}/{name}"
        if not is_safe_path(rel.rstrip("/")):  # the same rule the engine applies to cloud paths
            raise ServiceError(
                400,
                "invalid_path",
                f"{rel!r} is not a folder inside the server's root directory",
            )
        return rel.rstrip("/")

    async def create_project(
        self, name: str, title: str = "", description: str = "", *, adopt: bool = False
    ) -> LocalProject:
        """Create a cloud project and link it at projects_dir/NAME. A folder there that
        already holds files is refused (409 folder_not_empty) unless ``adopt``: then its
        files are uploaded into the new project."""
        _, client = self.require_manager()
        problem = project_name_problem(name)
        if problem is not None:
            raise ServiceError(400, "invalid_name", problem)
        folder = self._folder(None, name)
        self._check_folder_free(folder)
        files = _count_files(Path(self.settings.root_dir) / folder)
        if files and not adopt:
            raise ServiceError(
                409,
                "folder_not_empty",
                f"the folder {folder} exists and holds {files} file{'s' if files != 1 else ''}; "
                "create the project with adopt to upload them into it",
                {"folder": folder, "files": files},
            )
        try:
            cloud = await client.create_project(name, title, description)
        except RemoteError as exc:
            if exc.status == 409:  # the cloud's generic "conflict" is no sync conflict
                raise ServiceError(409, "name_taken", exc.message) from exc
            raise from_cloud(exc) from exc
        return self._link(cloud, folder)

    async def link(self, project_id: str, local_path: str | None = None) -> LocalProject:
        _, client = self.require_manager()
        with self.require_store().read() as session:
            if session.get(LocalProjectRow, project_id) is not None:
                raise ServiceError(409, "already_linked", f"project {project_id} is already linked")
        try:
            cloud = await client.project(project_id)
        except RemoteError as exc:
            raise from_cloud(exc) from exc
        folder = self._folder(local_path, cloud.name)
        self._check_folder_free(folder)
        return self._link(cloud, folder)

    def _check_folder_free(self, folder: str) -> None:
        with self.require_store().read() as session:
            taken = session.scalar(
                select(LocalProjectRow.id).where(LocalProjectRow.local_path == folder)
            )
        if taken is not None:
            raise ServiceError(
                409, "folder_in_use", f"the folder {folder!r} is already linked to {taken}"
            )
        if (Path(self.settings.root_dir) / folder).is_file():
            raise ServiceError(409, "folder_in_use", f"{folder!r} is a file")

    def _link(self, cloud: CloudProject, folder: str) -> LocalProject:
        manager, client = self.require_manager()
        (Path(self.settings.root_dir) / folder).mkdir(parents=True, exist_ok=True)
        with self.require_store().write() as session:
            session.add(
                LocalProjectRow(
                    id=cloud.id,
                    cloud_url=client.base_url,
                    name=cloud.name,
                    title=cloud.title,
                    description=cloud.description,
                    owner=cloud.owner,
                    local_path=folder,
                )
            )
        manager.watch_project(cloud.id)
        manager.request_sync(cloud.id, user=True)
        return self._local_project(cloud.id)

    async def delete_project(self, project_id: str) -> None:
        """Delete a project from the cloud, for everyone (the cloud lets only its owner);
        unlink it here first if it is linked. Local files stay. Nothing changes when the
        cloud refuses."""
        _, client = self.require_manager()
        try:
            await client.project(project_id)  # 404 before anything changes
        except RemoteError as exc:
            raise from_cloud(exc) from exc
        with self.require_store().read() as session:
            linked = session.get(LocalProjectRow, project_id) is not None
        try:
            await client.delete_project(project_id)
        except RemoteError as exc:
            raise from_cloud(exc) from exc
        if linked:
            self.unlink(project_id)

    def unlink(self, project_id: str) -> None:
        manager, _ = self.require_manager()
        self._local_project(project_id)
        manager.unwatch_project(project_id)
        with self.require_store().write() as session:
            row = session.get(LocalProjectRow, project_id)
            if row is not None:
                session.delete(row)  # synced tree, cursor, conflicts, jobs go with it
        self.bus.publish(ProjectRemovedEvent(project_id=project_id))

    def sync(
        self,
        project_id: str,
        *,
        confirm_deletes: bool = False,
        restore_deletes: bool = False,
        max_delete_fraction: float | None = None,
        max_deletes: int | None = None,
    ) -> JobModel:
        """Queue a sync. ``confirm_deletes``: the user confirmed the deletes the guard paused;
        ``restore_deletes``: download the files deleted here again instead of deleting them
        in the cloud; ``max_delete_fraction`` / ``max_deletes``: this run's delete guard
        (a share of the project, or a count), instead of the setting."""
        manager, _ = self.require_manager()
        self._local_project(project_id)
        if confirm_deletes and restore_deletes:
            raise ServiceError(
                400,
                "invalid_body",
                "confirm_deletes and restore_deletes contradict each other: choose one",
            )
        return manager.request_sync(
            project_id,
            user=True,
            allow_mass_delete=confirm_deletes,
            restore_deletes=restore_deletes,
            max_delete_fraction=max_delete_fraction,
            max_deletes=max_deletes,
        )

    def set_conflict_policy(self, project_id: str, policy: ConflictPolicy) -> LocalProject:
        """What this project's conflicts become from now on (stored in the local DB)."""
        self._local_project(project_id)
        with self.require_store().write() as session:
            row = session.get(LocalProjectRow, project_id)
            assert row is not None
            row.conflict_policy = policy
        return self._local_project(project_id)
