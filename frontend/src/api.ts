import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import type {
  ICheckpoint,
  ICheckpointRestored,
  ICloudProject,
  IConflict,
  IDiffReply,
  IFileEntry,
  IFileVersion,
  IHistoryPage,
  IItems,
  IJob,
  ILocalProject,
  ISyncPlan,
  Keep
} from './types';
import { apiUrl } from './urls';

/** Reply of `GET {baseUrl}project-filebrowser/api/status` (see CONTRACT.md). */
export interface IStatus {
  version: string;
  db_revision?: string | null;
  cloud?: {
    url: string;
    connected: boolean;
    embedded?: boolean;
    user?: string | null;
    error?: string | null;
  };
  watcher?: { running: boolean; observer?: string | null };
}

/**
 * Call the extension's REST API.
 *
 * @param path - segments below `project-filebrowser/api`, e.g. `['projects', id]`
 * @param init - fetch options (method, body, ...)
 * @param settings - the server connection settings (the app's `serverSettings`)
 * @param query - query parameters, if any
 * @returns the parsed JSON reply, or `undefined` for an empty body (204)
 * @throws ServerConnection.NetworkError when the server cannot be reached,
 *   ServerConnection.ResponseError for a non-2xx reply
 */
export async function requestAPI<T>(
  path: string[],
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings(),
  query?: Record<string, string>
): Promise<T> {
  const text = await requestText(path, init, settings, query);
  let data: unknown = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  return data as T;
}

/**
 * Like `requestAPI`, for a reply that is not JSON (a file's bytes, as text).
 *
 * @returns the body as text
 */
export async function requestText(
  path: string[],
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings(),
  query?: Record<string, string>
): Promise<string> {
  let url = apiUrl(settings.baseUrl, ...path);
  if (query !== undefined) {
    url += `?${new URLSearchParams(query).toString()}`;
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  if (!response.ok) {
    let data: unknown = undefined;
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
    // The extension replies {"error": {"code": ..., "message": ...}} on failure.
    const error = (
      data as { error?: { code?: string; message?: string } & Record<string, unknown> } | undefined
    )?.error;
    const message = error?.message ?? `${response.status} ${response.statusText}`;
    const { code, message: _message, ...details } = error ?? {};
    throw new ApiError(response, message, code ?? `http_${response.status}`, details);
  }
  return text;
}

/** The URL segments of a project file's route: `path` split at `/`, so that each segment
 * is encoded on its own (`a b/c#.txt` -> `a%20b/c%23.txt`). */
export function fileRoute(projectId: string, route: string, path: string): string[] {
  return ['projects', projectId, route, ...path.split('/')];
}

/** The query of a paginated list. */
export function pageQuery(limit?: number, pageToken?: string | null): Record<string, string> {
  const query: Record<string, string> = {};
  if (limit !== undefined) {
    query.limit = String(limit);
  }
  if (pageToken) {
    query.page_token = pageToken;
  }
  return query;
}

/** A non-2xx reply of the extension, with the contract's error code. */
export class ApiError extends ServerConnection.ResponseError {
  constructor(
    response: Response,
    message: string,
    readonly code: string,
    /** The error object's other fields (e.g. `folder_not_empty` has `folder` and `files`). */
    readonly details: Record<string, unknown> = {}
  ) {
    super(response, message);
    this.name = 'ApiError';
  }
}

/** A sentence for people from whatever a request threw. */
export function errorMessage(error: unknown, trans: TranslationBundle): string {
  if (error instanceof ServerConnection.NetworkError) {
    return trans.__('The Jupyter server cannot be reached.');
  }
  const text = error instanceof Error ? error.message || error.name : String(error);
  return sentence(text);
}

/** "no such thing" -> "No such thing." */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length === 0) {
    return trimmed;
  }
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

function json(method: string, body?: unknown): RequestInit {
  return body === undefined
    ? { method }
    : { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } };
}

/** A call of the history routes. `no-cache` (revalidate with the server), not
 * JupyterLab's default `no-store`, for which `makeRequest` appends a bare timestamp to the
 * query of every request: these routes refuse query parameters they do not know. */
function fresh(method = 'GET', body?: unknown): RequestInit {
  return { ...json(method, body), cache: 'no-cache' };
}

/**
 * The extension's REST API, bound to one server (CONTRACT.md). Every method throws
 * `ApiError` for an error reply and `ServerConnection.NetworkError` when the server
 * cannot be reached.
 */
export class ProjectsApi {
  constructor(
    readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  status(): Promise<IStatus> {
    return getStatus(this.settings);
  }

  async projects(): Promise<ILocalProject[]> {
    return (await this._call<IItems<ILocalProject>>(['projects'], json('GET'))).items;
  }

  async cloudProjects(): Promise<ICloudProject[]> {
    return (
      await this._call<IItems<ICloudProject>>(['projects'], json('GET'), { scope: 'cloud' })
    ).items;
  }

  createProject(body: {
    name: string;
    title?: string;
    description?: string;
    adopt?: boolean;
  }): Promise<ILocalProject> {
    return this._call<ILocalProject>(['projects'], json('POST', body));
  }

  /** Delete a project from the cloud, for everyone (owner only); unlinks it here. */
  async deleteProject(projectId: string): Promise<void> {
    await this._call<void>(['projects', projectId], json('DELETE'));
  }

  link(projectId: string, localPath?: string): Promise<ILocalProject> {
    const body = localPath ? { local_path: localPath } : {};
    return this._call<ILocalProject>(['projects', projectId, 'link'], json('POST', body));
  }

  async unlink(projectId: string): Promise<void> {
    await this._call<void>(['projects', projectId, 'link'], json('DELETE'));
  }

  sync(projectId: string, confirmDeletes = false, restoreDeletes = false): Promise<IJob> {
    const body = {
      ...(confirmDeletes ? { confirm_deletes: true } : {}),
      ...(restoreDeletes ? { restore_deletes: true } : {})
    };
    return this._call<IJob>(['projects', projectId, 'sync'], json('POST', body));
  }

  /** A dry run: what a sync would do now, changing nothing. */
  dryRun(projectId: string): Promise<ISyncPlan> {
    return this._call<ISyncPlan>(['projects', projectId, 'sync'], json('POST', { dry_run: true }));
  }

  async files(projectId: string): Promise<IFileEntry[]> {
    return (
      await this._call<IItems<IFileEntry>>(['projects', projectId, 'files'], json('GET'))
    ).items;
  }

  async conflicts(projectId?: string): Promise<IConflict[]> {
    const query = projectId ? { project_id: projectId } : undefined;
    return (await this._call<IItems<IConflict>>(['conflicts'], json('GET'), query)).items;
  }

  resolveConflict(conflictId: number, keep: Keep): Promise<IConflict> {
    return this._call<IConflict>(
      ['conflicts', String(conflictId), 'resolve'],
      json('POST', { keep })
    );
  }

  async jobs(): Promise<IJob[]> {
    return (await this._call<IItems<IJob>>(['jobs'], json('GET'))).items;
  }

  async cancelJob(jobId: string): Promise<void> {
    await this._call<void>(['jobs', jobId], json('DELETE'));
  }

  // -- history -------------------------------------------------------------------------

  /** A page of a file's revisions, newest first, deletions included. */
  history(
    projectId: string,
    path: string,
    limit?: number,
    pageToken?: string | null
  ): Promise<IHistoryPage> {
    return this._call<IHistoryPage>(
      fileRoute(projectId, 'history', path),
      fresh(),
      pageQuery(limit, pageToken)
    );
  }

  /** The content of one revision of a file, as text. */
  content(projectId: string, path: string, revision: string): Promise<string> {
    return requestText(fileRoute(projectId, 'content', path), fresh(), this.settings, {
      revision
    });
  }

  /** The diff from revision `from` to `to` (omitted: the current local file). */
  diff(projectId: string, path: string, from: string, to?: string | null): Promise<IDiffReply> {
    return this._call<IDiffReply>(
      fileRoute(projectId, 'diff', path),
      fresh(),
      to ? { from, to } : { from }
    );
  }

  /** Write a revision (default: the newest non-deleted) as the file's new head. */
  restore(projectId: string, path: string, revision?: string): Promise<IFileVersion> {
    return this._call<IFileVersion>(
      fileRoute(projectId, 'restore', path),
      fresh('POST', revision ? { revision } : {})
    );
  }

  /** A page of the project's deleted files (the last live revision of each). */
  deleted(projectId: string, limit?: number, pageToken?: string | null): Promise<IHistoryPage> {
    return this._call<IHistoryPage>(
      ['projects', projectId, 'deleted'],
      fresh(),
      pageQuery(limit, pageToken)
    );
  }

  async checkpoints(projectId: string): Promise<ICheckpoint[]> {
    return (
      await this._call<IItems<ICheckpoint>>(['projects', projectId, 'checkpoints'], fresh())
    ).items;
  }

  createCheckpoint(projectId: string, name: string): Promise<ICheckpoint> {
    return this._call<ICheckpoint>(
      ['projects', projectId, 'checkpoints'],
      fresh('POST', { name })
    );
  }

  restoreCheckpoint(projectId: string, checkpointId: string): Promise<ICheckpointRestored> {
    return this._call<ICheckpointRestored>(
      ['projects', projectId, 'checkpoints', checkpointId, 'restore'],
      fresh('POST', {})
    );
  }

  private _call<T>(
    path: string[],
    init: RequestInit,
    query?: Record<string, string>
  ): Promise<T> {
    if (query === undefined || Object.keys(query).length === 0) {
      return requestAPI<T>(path, init, this.settings);
    }
    return requestAPI<T>(path, init, this.settings, query);
  }
}

/** `GET /status` of the server extension. */
export function getStatus(
  settings?: ServerConnection.ISettings
): Promise<IStatus> {
  return requestAPI<IStatus>(['status'], { method: 'GET' }, settings);
}
