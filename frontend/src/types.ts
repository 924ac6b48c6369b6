/**
 * The shapes of the extension's REST API and websocket (CONTRACT.md, and
 * `backend_lib/project_filebrowser/schemas.py` for the exact JSON).
 */

/** Sync status of a linked project. */
export type ProjectStatus = 'idle' | 'syncing' | 'paused' | 'offline' | 'error';

/** State of a file of a linked project (`deleted_locally`: gone from this machine, still
 * in the cloud, until the next sync deletes it there or it is restored; `skipped`: never
 * synced - a symlink, a special file, a name the cloud cannot hold - `reason` says why;
 * `failed`: its last step failed on its own, the rest syncs on; tried again after a backoff
 * or at the next Sync, `reason` says why). */
export type FileState =
  | 'synced'
  | 'pending_push'
  | 'pending_pull'
  | 'conflict'
  | 'ignored'
  | 'deleted_locally'
  | 'skipped'
  | 'failed';

/** A `file_status` event may also say that a path is gone from both sides. */
export type FileEventState = FileState | 'deleted';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** Which side a conflict resolution keeps. */
export type Keep = 'local' | 'remote' | 'both';

/** What a project's conflicts become: a conflict copy (`keep-both`), or a side. */
export type ConflictPolicy = 'keep-both' | 'newer' | 'local' | 'remote';

/** A cloud project linked to a folder on this server. */
export interface ILocalProject {
  id: string;
  name: string;
  title: string;
  description: string;
  owner: string;
  /** The project folder, relative to the Jupyter server's root directory. */
  local_path: string;
  status: ProjectStatus;
  last_synced_at: string | null;
  pending: number;
  conflicts: number;
  error: string | null;
  /** The URL of the cloud the project syncs with. */
  cloud_url?: string;
  /** Paused because the project folder is missing: nothing to confirm, restore or unlink. */
  folder_missing?: boolean;
  /** What this project's conflicts become (`project-filebrowser policy`). */
  conflict_policy?: ConflictPolicy;
}

/** A project as the cloud Projects service describes it. */
export interface ICloudProject {
  id: string;
  name: string;
  title: string;
  description: string;
  owner: string;
  created_at: string;
  updated_at: string;
  metadata?: Record<string, unknown>;
  head_seq: number;
  file_count: number;
  size_bytes: number;
}

/** A file of a linked project; `size` is unknown for a file only seen in an event. */
export interface IFileEntry {
  path: string;
  size: number | null;
  state: FileState;
  /** Why a `skipped` or `failed` file is not synced, in words. */
  reason?: string;
}

export interface IJob {
  id: string;
  project_id: string;
  kind: string;
  state: JobState;
  files_done: number;
  files_total: number;
  bytes_done: number;
  bytes_total: number;
  error: string | null;
  /** Paths changed on both sides that merged cleanly (no conflict copy). */
  merged?: number;
}

/** Why two versions did not merge: the same lines changed differently, a cell deleted on
 * one side and edited on the other, binary content, a notebook that does not parse, a
 * file over the merge limit. */
export type ConflictReason = 'overlap' | 'delete_edit' | 'binary' | 'unparsable' | 'too_large';

/** A notebook cell both sides changed differently (index: in the version at the path). */
export interface IConflictCell {
  id: string | null;
  index: number;
}

export interface IConflict {
  id: number;
  project_id: string;
  path: string;
  conflict_path: string;
  detected_at: string;
  resolved: boolean;
  /** Whether this machine made the conflict copy (false: it arrived from another one). */
  made_here?: boolean;
  /** Why the versions did not merge (null: no merge was tried). */
  reason?: ConflictReason | null;
  /** The notebook cells that conflicted (empty otherwise). */
  cells?: IConflictCell[];
}

/** `{items: [...]}`, the reply of every list endpoint. */
export interface IItems<T> {
  items: T[];
}

// -- websocket: server -> client ---------------------------------------------------------

interface IReply {
  /** The id of the request this message answers, if it answers one. */
  id?: string;
}

export interface IHelloMessage extends IReply {
  type: 'hello';
  protocol: number;
  version: string;
}

export interface ISubscribedMessage extends IReply {
  type: 'subscribed';
  projects: string[] | null;
}

export interface IProjectsMessage extends IReply {
  type: 'projects';
  items: ILocalProject[];
}

export interface IProjectUpdatedMessage extends IReply {
  type: 'project_updated';
  project: ILocalProject;
}

export interface IProjectRemovedMessage extends IReply {
  type: 'project_removed';
  project_id: string;
}

export interface IFileStatusMessage extends IReply {
  type: 'file_status';
  project_id: string;
  path: string;
  state: FileEventState;
  /** The path's size in this state (absent or null: unknown, or deleted). */
  size?: number | null;
  /** The cloud revision the path is now synced at, and who made it (null: not known). */
  revision?: string | null;
  modified_by?: string | null;
  /** Why a `failed` path is not synced, and when it is tried again. */
  reason?: string;
}

/** Both sides changed a path and the merge was clean: the merge is at the path, here and
 * in the cloud (`revision`); both parents stay in the cloud's history. */
export interface IFileMergedMessage extends IReply {
  type: 'file_merged';
  project_id: string;
  path: string;
  revision: string;
  /** Who wrote the other side's version (null: not known). */
  merged_with?: string | null;
}

export interface IJobProgressMessage extends IReply {
  type: 'job_progress';
  job: IJob;
}

export interface IJobFinishedMessage extends IReply {
  type: 'job_finished';
  job: IJob;
}

export interface IConflictMessage extends IReply {
  type: 'conflict';
  conflict: IConflict;
}

/** The cloud user's projects, linked or not: sent when the cloud's list changed, and
 * when the cloud is reachable again. */
export interface ICloudProjectsMessage extends IReply {
  type: 'cloud_projects';
  items: ICloudProject[];
}

/** Cloud deletes a person confirmed on another machine were applied here without asking
 * again: who deleted how many files (and the first of them). */
export interface IDeletesAppliedMessage extends IReply {
  type: 'deletes_applied';
  project_id: string;
  deleted_by: string;
  count: number;
  paths: string[];
  message: string;
}

export interface IPongMessage extends IReply {
  type: 'pong';
}

export interface IErrorMessage extends IReply {
  type: 'error';
  code: string;
  message: string;
}

export type ServerMessage =
  | IHelloMessage
  | ISubscribedMessage
  | IProjectsMessage
  | IProjectUpdatedMessage
  | IProjectRemovedMessage
  | IFileStatusMessage
  | IFileMergedMessage
  | IJobProgressMessage
  | IJobFinishedMessage
  | IConflictMessage
  | ICloudProjectsMessage
  | IDeletesAppliedMessage
  | IPongMessage
  | IErrorMessage;

export const SERVER_MESSAGE_TYPES: ReadonlyArray<ServerMessage['type']> = [
  'hello',
  'subscribed',
  'projects',
  'project_updated',
  'project_removed',
  'file_status',
  'file_merged',
  'job_progress',
  'job_finished',
  'conflict',
  'cloud_projects',
  'deletes_applied',
  'pong',
  'error'
];

/** One step of a dry run's plan (`POST /projects/{id}/sync {"dry_run": true}`). */
export interface IPlannedStep {
  action: 'upload' | 'download' | 'delete_local' | 'delete_remote' | 'move' | 'conflict';
  path: string;
  from_path: string | null;
  size: number;
}

/** What a sync would do now; nothing was changed to find out. */
export interface ISyncPlan {
  project_id: string;
  steps: IPlannedStep[];
  totals: {
    uploads: number;
    downloads: number;
    delete_local: number;
    delete_remote: number;
    moves: number;
    conflicts: number;
    upload_bytes: number;
    download_bytes: number;
  };
  guard: { side: 'local' | 'remote'; deletes: number; total: number; message: string } | null;
}

// -- websocket: client -> server ---------------------------------------------------------

export type ClientRequest =
  | { type: 'subscribe'; projects?: string[] | null }
  | { type: 'list_projects' }
  | {
      type: 'sync';
      project_id: string;
      confirm_deletes?: boolean;
      restore_deletes?: boolean;
    }
  | { type: 'cancel'; job_id: string }
  | { type: 'resolve_conflict'; conflict_id: number; keep: Keep }
  | { type: 'ping' };

/** The reply type the server sends to each request (an `error` may come instead). */
export interface IReplyOf {
  subscribe: ISubscribedMessage;
  list_projects: IProjectsMessage;
  sync: IJobProgressMessage;
  cancel: IJobFinishedMessage;
  resolve_conflict: IConflictMessage;
  ping: IPongMessage;
}

// -- history (CONTRACT.md "History — extension REST") ------------------------------------

/** One revision of a file in the cloud's history (a deletion is a revision too). */
export interface IFileVersion {
  path: string;
  revision: string;
  /** null for a deletion. */
  sha256: string | null;
  size: number;
  /** ISO time of the revision. */
  modified_at: string;
  modified_by: string | null;
  deleted: boolean;
  mtime_ns?: number | null;
}

/** A page of a paginated list: `next_page_token` is null on the last page. */
export interface IHistoryPage<T = IFileVersion> {
  items: T[];
  next_page_token: string | null;
}

/** What a diff compares: notebooks (cell by cell), text (line by line), binary content. */
export type DiffKind = 'notebook' | 'text' | 'binary';

/** `GET /projects/{id}/diff/{path}` of a notebook: nbdime's diff and the "from" notebook. */
export interface INotebookDiffReply {
  kind: 'notebook';
  /** nbdime's diff entries. */
  diff: unknown[];
  /** The "from" notebook's JSON. */
  base: Record<string, unknown>;
}

/** A text file's diff: a unified diff. */
export interface ITextDiffReply {
  kind: 'text';
  diff: string;
  base?: null;
}

/** Binary content: only the sizes are compared. */
export interface IBinaryDiffReply {
  kind: 'binary';
  diff: { from_size: number | null; to_size: number | null };
  base?: null;
}

export type IDiffReply = INotebookDiffReply | ITextDiffReply | IBinaryDiffReply;

/** A named snapshot of a whole project. */
export interface ICheckpoint {
  id: string;
  name: string;
  seq: number;
  created_at: string;
}

/** The reply of a checkpoint restore: the one restored, and the automatic checkpoint made
 * first ("before restore of <name>") that undoes it. */
export interface ICheckpointRestored {
  checkpoint: ICheckpoint;
  undo: ICheckpoint;
}
