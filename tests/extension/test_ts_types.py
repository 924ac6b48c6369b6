"""The frontend's TypeScript shapes (``frontend/src/types.ts``) against the server's pydantic
models (``schemas.py``): a field or a state added on one side and not the other fails here,
not in a user's panel."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from project_filebrowser import schemas

TYPES = (Path(__file__).parents[2] / "frontend" / "src" / "types.ts").read_text()

INTERFACES: dict[str, type[BaseModel]] = {
    "ILocalProject": schemas.LocalProject,
    "ICloudProject": schemas.CloudProject,
    "IFileEntry": schemas.FileEntry,
    "IJob": schemas.JobModel,
    "IConflict": schemas.ConflictModel,
    "IPlannedStep": schemas.PlannedStep,
    "ISyncPlan": schemas.SyncPlan,
    "IProjectUpdatedMessage": schemas.ProjectUpdatedEvent,
    "IFileStatusMessage": schemas.FileStatusEvent,
    "IFileMergedMessage": schemas.FileMergedEvent,
    "IConflictCell": schemas.ConflictCell,
    "IJobProgressMessage": schemas.JobProgressEvent,
    "IJobFinishedMessage": schemas.JobFinishedEvent,
    "IProjectRemovedMessage": schemas.ProjectRemovedEvent,
    "IConflictMessage": schemas.ConflictEvent,
    "ICloudProjectsMessage": schemas.CloudProjectsEvent,
    "IDeletesAppliedMessage": schemas.DeletesAppliedEvent,
    "IFileVersion": schemas.FileVersion,
    "IHistoryPage": schemas.HistoryPage,
    "INotebookDiffReply": schemas.DiffReply,
    "ICheckpoint": schemas.Checkpoint,
    "ICheckpointRestored": schemas.CheckpointRestored,
}
UNIONS = {
    "ProjectStatus": schemas.ProjectStatus,
    "FileState": schemas.FileState,
    "JobState": schemas.JobState,
    "Keep": schemas.Keep,
    "ConflictPolicy": schemas.ConflictPolicy,
    "ConflictReason": schemas.ConflictReason,
    "DiffKind": schemas.DiffKind,
}


def ts_fields(name: str) -> set[str]:
    match = re.search(rf"export interface {name}\b[^{{]*\{{(.*?)\n\}}", TYPES, re.S)
    assert match, f"{name} is not in types.ts"
    body = re.sub(r"/\*.*?\*/|//[^\n]*", "", match.group(1), flags=re.S)
    while re.search(r"\{[^{}]*\}", body):  # an inline object type: its fields are not ours
        body = re.sub(r"\{[^{}]*\}", "object", body)
    return set(re.findall(r"^\s+(\w+)\??:", body, re.M))


def ts_union(name: str) -> set[str]:
    match = re.search(rf"export type {name} =(.*?);", TYPES, re.S)
    assert match, f"{name} is not in types.ts"
    return set(re.findall(r"'([^']+)'", match.group(1)))


@pytest.mark.parametrize("name", sorted(INTERFACES))
def test_each_interface_has_the_models_fields(name: str) -> None:
    model = INTERFACES[name]
    sent = {key for key, field in model.model_fields.items() if not field.exclude}
    sent |= set(model.model_computed_fields)
    assert ts_fields(name) == sent, f"{name} vs {model.__name__}"


@pytest.mark.parametrize("name", sorted(UNIONS))
def test_each_union_has_the_models_values(name: str) -> None:
    assert ts_union(name) == set(typing.get_args(UNIONS[name])), name
