/**
 * The sidebar's state, free of any framework: a reducer applies websocket messages and
 * REST results to one immutable state object, and selectors derive what the views show
 * (what they say about it, in words, is `status.ts`).
 *
 * Everything here is pure and synchronous, so it is unit-tested without a browser.
 *
 * Over 400 lines on purpose: the state, the actions and the reducer that applies them are
 * one switch over one union, read and changed together; split up, each change would touch
 * several files that only make sense side by side.
 */

import type {
  FileState,
  ICloudProject,
  IConflict,
  IFileEntry,
  IFileStatusMessage,
  IJob,
  ILocalProject,
  ServerMessage
} from './types';

// -- state ---------------------------------------------------------------------------------

/** The browser's connection to the server extension's websocket. */
export type ConnectionState = 'connecting' | 'online' | 'offline';

export interface IConnection {
  state: ConnectionState;
  /** Failed attempts since the last good connection. */
  attempt: number;
  /** When the next attempt starts (ms since the epoch), while offline. */
  retryAt: number | null;
  /** Why the last connection failed or closed. */
  error: string | null;
  /** The server extension's version, from its `hello`. */
  serverVersion: string | null;
  /** Whether the connection has been up at least once. */
  everConnected: boolean;
}

export type LoadStatus = 'idle' | 'loading' | 'loaded' | 'error';

/** The files of one linked project, once they have been asked for. */
export interface IFiles {
  status: 'loading' | 'loaded' | 'error';
  error: string | null;
  /** By path. Kept while a refetch runs, so the list does not flicker. */
  items: Readonly<Record<string, IFileEntry>>;
  /** `file_status` events that arrived while a fetch ran: replayed over its result. */
  queued: ReadonlyArray<IFileStatusMessage>;
}

export interface IState {
  connection: IConnection;
  projectsStatus: LoadStatus;
  projectsError: string | null;
  /** Linked projects by id. */
  projects: Readonly<Record<string, ILocalProject>>;
  /** Every project of the cloud user (linked or not), fetched on demand. */
  cloud: {
    status: LoadStatus;
    error: string | null;
    items: ReadonlyArray<ICloudProject>;
  };
  /** Files by project id, for projects whose files were asked for. */
  files: Readonly<Record<string, IFiles>>;
  /** Jobs by id: every active one and the last few finished ones. */
  jobs: Readonly<Record<string, IJob>>;
  /** Conflicts by id, resolved ones included. */
  conflicts: Readonly<Record<string, IConflict>>;
  /** Which projects are expanded in the panel. */
  expanded: Readonly<Record<string, boolean>>;
  /** The last `error` the server sent that answered no request of ours. */
  lastError: { code: string; message: string } | null;
}

/** How many finished jobs are kept (active ones are always kept). */
export const FINISHED_JOBS_KEPT = 20;

export function initialState(): IState {
  return {
    connection: {
      state: 'connecting',
      attempt: 0,
      retryAt: null,
      error: null,
      serverVersion: null,
      everConnected: false
    },
    projectsStatus: 'idle',
    projectsError: null,
    projects: {},
    cloud: { status: 'idle', error: null, items: [] },
    files: {},
    jobs: {},
    conflicts: {},
    expanded: {},
    lastError: null
  };
}

// -- actions -------------------------------------------------------------------------------

export type Action =
  | { type: 'connecting'; attempt: number }
  | {
      type: 'disconnected';
      attempt: number;
      retryAt: number | null;
      error: string | null;
    }
  | { type: 'message'; message: ServerMessage }
  | { type: 'projects/loading' }
  | { type: 'projects/loaded'; items: ILocalProject[] }
  | { type: 'projects/failed'; error: string }
  | { type: 'project/linked'; project: ILocalProject }
  | { type: 'project/unlinked'; projectId: string }
  | { type: 'cloud/loading' }
  | { type: 'cloud/loaded'; items: ICloudProject[] }
  | { type: 'cloud/failed'; error: string }
  | { type: 'files/loading'; projectId: string }
  | { type: 'files/loaded'; projectId: string; items: IFileEntry[] }
  | { type: 'files/failed'; projectId: string; error: string }
  | { type: 'conflicts/loaded'; items: IConflict[]; projectId?: string }
  | { type: 'jobs/loaded'; items: IJob[] }
  | { type: 'expand'; projectId: string; expanded: boolean }
  | { type: 'error/dismiss' };

// -- the reducer ---------------------------------------------------------------------------

export function reduce(state: IState, action: Action): IState {
  switch (action.type) {
    case 'connecting':
      return {
        ...state,
        connection: {
          ...state.connection,
          state: 'connecting',
          attempt: action.attempt,
          retryAt: null
        }
      };
    case 'disconnected':
      return {
        ...state,
        connection: {
          ...state.connection,
          state: 'offline',
          attempt: action.attempt,
          retryAt: action.retryAt,
          error: action.error
        }
      };
    case 'message':
      return applyMessage(state, action.message);
    case 'projects/loading':
      return { ...state, projectsStatus: 'loading', projectsError: null };
    case 'projects/loaded':
      return replaceProjects(state, action.items);
    case 'projects/failed':
      return { ...state, projectsStatus: 'error', projectsError: action.error };
    case 'project/linked':
      return upsertProject(state, action.project);
    case 'project/unlinked':
      return removeProjects(state, new Set([action.projectId]));
    case 'cloud/loading':
      return { ...state, cloud: { ...state.cloud, status: 'loading', error: null } };
    case 'cloud/loaded':
      return {
        ...state,
        cloud: { status: 'loaded', error: null, items: action.items }
      };
    case 'cloud/failed':
      return {
        ...state,
        cloud: { ...state.cloud, status: 'error', error: action.error }
      };
    case 'files/loading': {
      const previous = state.files[action.projectId];
      return withFiles(state, action.projectId, {
        status: 'loading',
        error: null,
        items: previous?.items ?? {},
        queued: []
      });
    }
    case 'files/loaded': {
      if (!(action.projectId in state.projects)) {
        return state; // unlinked meanwhile
      }
      const previous = state.files[action.projectId];
      let items: Record<string, IFileEntry> = {};
      for (const entry of action.items) {
        items[entry.path] = { path: entry.path, size: entry.size, state: entry.state };
      }
      for (const event of previous?.queued ?? []) {
        items = applyFileEvent(items, event);
      }
      items = markConflicts(items, state.conflicts, action.projectId);
      return withFiles(state, action.projectId, {
        status: 'loaded',
        error: null,
        items,
        queued: []
      });
    }
    case 'files/failed': {
      const previous = state.files[action.projectId];
      if (previous === undefined) {
        return state;
      }
      return withFiles(state, action.projectId, {
        ...previous,
        status: 'error',
        error: action.error,
        queued: []
      });
    }
    case 'conflicts/loaded': {
      const conflicts: Record<string, IConflict> = {};
      for (const [key, conflict] of Object.entries(state.conflicts)) {
        if (action.projectId !== undefined && conflict.project_id !== action.projectId) {
          conflicts[key] = conflict; // another project's: this list does not cover it
        }
      }
      for (const conflict of action.items) {
        conflicts[String(conflict.id)] = conflict;
      }
      return { ...state, conflicts };
    }
    case 'jobs/loaded': {
      let jobs: Record<string, IJob> = {};
      for (const job of action.items) {
        jobs[job.id] = job;
      }
      jobs = pruneJobs(jobs);
      return { ...state, jobs };
    }
    case 'expand':
      if (Boolean(state.expanded[action.projectId]) === action.expanded) {
        return state;
      }
      return {
        ...state,
        expanded: { ...state.expanded, [action.projectId]: action.expanded }
      };
    case 'error/dismiss':
      return state.lastError === null ? state : { ...state, lastError: null };
  }
  return state;
}

function applyMessage(state: IState, message: ServerMessage): IState {
  switch (message.type) {
    case 'hello':
      return {
        ...state,
        connection: {
          state: 'online',
          attempt: 0,
          retryAt: null,
          error: null,
          serverVersion: message.version,
          everConnected: true
        }
      };
    case 'projects':
      return replaceProjects(state, message.items);
    case 'project_updated':
      return upsertProject(state, message.project);
    case 'project_removed':
      return removeProjects(state, new Set([message.project_id]));
    case 'file_status': {
      const files = state.files[message.project_id];
      if (files === undefined) {
        return state; // nobody looks at this project's files: they are fetched when opened
      }
      if (files.status === 'loading') {
        return withFiles(state, message.project_id, {
          ...files,
          queued: [...files.queued, message]
        });
      }
      const items = applyFileEvent(files.items, message);
      return items === files.items ? state : withFiles(state, message.project_id, { ...files, items });
    }
    case 'job_progress':
    case 'job_finished':
      return applyJob(state, message.job);
    case 'conflict':
      return applyConflict(state, message.conflict);
    case 'cloud_projects':
      return { ...state, cloud: { status: 'loaded', error: null, items: message.items } };
    case 'error':
      if (message.id !== undefined) {
        return state; // the reply to a request: its caller reports it
      }
      return { ...state, lastError: { code: message.code, message: message.message } };
    case 'subscribed':
    case 'file_merged': // the file_status that follows carries the new state
    case 'deletes_applied':
    case 'pong':
      return state;
  }
  return state;
}

function replaceProjects(state: IState, items: ILocalProject[]): IState {
  const projects: Record<string, ILocalProject> = {};
  for (const project of items) {
    projects[project.id] = project;
  }
  const gone = new Set(Object.keys(state.projects).filter(id => !(id in projects)));
  const next = removeProjects(state, gone);
  return { ...next, projects, projectsStatus: 'loaded', projectsError: null };
}

function upsertProject(state: IState, project: ILocalProject): IState {
  return { ...state, projects: { ...state.projects, [project.id]: project } };
}

/** Forget projects, with their files, jobs, conflicts and expanded flag. */
function removeProjects(state: IState, ids: Set<string>): IState {
  if (ids.size === 0) {
    return state;
  }
  const keep = <T>(record: Readonly<Record<string, T>>, projectOf: (key: string, value: T) => string) => {
    const out: Record<string, T> = {};
    for (const [key, value] of Object.entries(record)) {
      if (!ids.has(projectOf(key, value))) {
        out[key] = value;
      }
    }
    return out;
  };
  return {
    ...state,
    projects: keep(state.projects, key => key),
    files: keep(state.files, key => key),
    expanded: keep(state.expanded, key => key),
    jobs: keep(state.jobs, (_key, job) => job.project_id),
    conflicts: keep(state.conflicts, (_key, conflict) => conflict.project_id)
  };
}

function withFiles(state: IState, projectId: string, files: IFiles): IState {
  return { ...state, files: { ...state.files, [projectId]: files } };
}

/** Apply one `file_status` event; returns the same object when nothing changes. */
export function applyFileEvent(
  items: Readonly<Record<string, IFileEntry>>,
  event: Pick<IFileStatusMessage, 'path' | 'state' | 'size' | 'reason'>
): Readonly<Record<string, IFileEntry>> {
  const current = items[event.path];
  if (event.state === 'deleted') {
    if (current === undefined) {
      return items;
    }
    const next = { ...items };
    delete next[event.path];
    return next;
  }
  const size = event.size ?? current?.size ?? null;
  if (
    current !== undefined &&
    current.state === event.state &&
    current.size === size &&
    current.reason === event.reason
  ) {
    return items;
  }
  const entry: IFileEntry = { path: event.path, size, state: event.state };
  if (event.reason) {
    entry.reason = event.reason;
  }
  return { ...items, [event.path]: entry };
}

/** Paths of a project's open conflicts show as conflicted, whatever a listing said. */
function markConflicts(
  items: Record<string, IFileEntry>,
  conflicts: Readonly<Record<string, IConflict>>,
  projectId: string
): Record<string, IFileEntry> {
  let out = items;
  for (const conflict of Object.values(conflicts)) {
    if (conflict.project_id !== projectId || conflict.resolved) {
      continue;
    }
    for (const path of [conflict.path, conflict.conflict_path]) {
      const entry = out[path];
      if (entry !== undefined && entry.state !== 'conflict') {
        out = out === items ? { ...items } : out;
        out[path] = { ...entry, state: 'conflict' };
      }
    }
  }
  return out;
}

function applyJob(state: IState, job: IJob): IState {
  const jobs = pruneJobs({ ...state.jobs, [job.id]: job });
  return { ...state, jobs };
}

export function isActive(job: IJob): boolean {
  return job.state === 'queued' || job.state === 'running';
}

/** Keep every active job and the last FINISHED_JOBS_KEPT finished ones (insertion order). */
function pruneJobs(jobs: Record<string, IJob>): Record<string, IJob> {
  const finished = Object.values(jobs).filter(job => !isActive(job));
  if (finished.length <= FINISHED_JOBS_KEPT) {
    return jobs;
  }
  const drop = new Set(
    finished.slice(0, finished.length - FINISHED_JOBS_KEPT).map(job => job.id)
  );
  const out: Record<string, IJob> = {};
  for (const [id, job] of Object.entries(jobs)) {
    if (!drop.has(id)) {
      out[id] = job;
    }
  }
  return out;
}

function applyConflict(state: IState, conflict: IConflict): IState {
  const key = String(conflict.id);
  const before = state.conflicts[key];
  let next: IState = { ...state, conflicts: { ...state.conflicts, [key]: conflict } };
  const project = state.projects[conflict.project_id];
  const files = state.files[conflict.project_id];
  if (!conflict.resolved) {
    if (files !== undefined && files.status !== 'loading') {
      let items = files.items;
      for (const path of [conflict.path, conflict.conflict_path]) {
        items = applyFileEvent(items, { path, state: 'conflict' });
      }
      next = withFiles(next, conflict.project_id, { ...files, items });
    }
    return next;
  }
  if (before !== undefined && !before.resolved) {
    // Resolved here: count it off now; the next project_updated brings the server's count.
    if (project !== undefined && project.conflicts > 0) {
      next = upsertProject(next, { ...project, conflicts: project.conflicts - 1 });
    }
    if (files !== undefined) {
      let items = files.items;
      for (const path of [conflict.path, conflict.conflict_path]) {
        if (items[path]?.state === 'conflict') {
          items = applyFileEvent(items, { path, state: 'synced' });
        }
      }
      next = withFiles(next, conflict.project_id, { ...files, items });
    }
  }
  return next;
}

// -- selectors -----------------------------------------------------------------------------

function byName(a: { name: string }, b: { name: string }): number {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base', numeric: true });
}

/** Linked projects, sorted by name. */
export function sortedProjects(state: IState): ILocalProject[] {
  return Object.values(state.projects).sort(byName);
}

/** Whether a project matches a search query (name, title, description or folder). */
export function matchesQuery(
  project: Pick<ILocalProject, 'name' | 'title' | 'description'> & { local_path?: string },
  query: string
): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) {
    return true;
  }
  const haystack = [project.name, project.title, project.description, project.local_path ?? '']
    .join('\n')
    .toLowerCase();
  return words.every(word => haystack.includes(word));
}

/** Cloud projects not linked here, sorted by name. */
export function unlinkedCloudProjects(state: IState): ICloudProject[] {
  return state.cloud.items.filter(project => !(project.id in state.projects)).sort(byName);
}

/** Open conflicts (of one project, or all), newest first. */
export function openConflicts(state: IState, projectId?: string): IConflict[] {
  return Object.values(state.conflicts)
    .filter(c => !c.resolved && (projectId === undefined || c.project_id === projectId))
    .sort((a, b) => b.detected_at.localeCompare(a.detected_at) || b.id - a.id);
}

/** The job a project is running, else the one it has queued, else null. */
export function activeJob(state: IState, projectId: string): IJob | null {
  let queued: IJob | null = null;
  for (const job of Object.values(state.jobs)) {
    if (job.project_id !== projectId) {
      continue;
    }
    if (job.state === 'running') {
      return job;
    }
    if (job.state === 'queued') {
      queued = job;
    }
  }
  return queued;
}

/** A job's progress in [0, 1] (by bytes when it moves bytes, else by files), or null
 * while its size is unknown. */
export function jobProgress(job: Pick<IJob, 'files_done' | 'files_total' | 'bytes_done' | 'bytes_total'>): number | null {
  if (job.bytes_total > 0) {
    return Math.min(1, job.bytes_done / job.bytes_total);
  }
  if (job.files_total > 0) {
    return Math.min(1, job.files_done / job.files_total);
  }
  return null;
}

/** A project's files, sorted by path; ignored ones only when asked. */
export function fileList(
  state: IState,
  projectId: string,
  options: { showIgnored?: boolean } = {}
): IFileEntry[] {
  const files = state.files[projectId];
  if (files === undefined) {
    return [];
  }
  return Object.values(files.items)
    .filter(entry => options.showIgnored || entry.state !== 'ignored')
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** How many of a project's files are in each state. */
export function fileCounts(state: IState, projectId: string): Record<FileState, number> {
  const counts: Record<FileState, number> = {
    synced: 0,
    pending_push: 0,
    pending_pull: 0,
    conflict: 0,
    ignored: 0,
    deleted_locally: 0,
    skipped: 0,
    failed: 0
  };
  for (const entry of Object.values(state.files[projectId]?.items ?? {})) {
    counts[entry.state] += 1;
  }
  return counts;
}

// -- the store -----------------------------------------------------------------------------

/** Holds the state; `dispatch` reduces an action and tells the listeners. */
export class Store {
  constructor(state: IState = initialState()) {
    this._state = state;
  }

  get state(): IState {
    return this._state;
  }

  dispatch(action: Action): void {
    const next = reduce(this._state, action);
    if (next === this._state) {
      return;
    }
    this._state = next;
    for (const listener of [...this._listeners]) {
      listener(next);
    }
  }

  /** Call `listener` after every change; returns the function that stops it. */
  subscribe(listener: (state: IState) => void): () => void {
    this._listeners.add(listener);
    return () => {
      this._listeners.delete(listener);
    };
  }

  private _state: IState;
  private _listeners = new Set<(state: IState) => void>();
}
