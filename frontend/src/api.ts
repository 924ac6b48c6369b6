import { ServerConnection } from '@jupyterlab/services';

import { apiUrl } from './urls';

/** Reply of `GET {baseUrl}project-filebrowser/api/status` (see CONTRACT.md). */
export interface IStatus {
  version: string;
  db_revision?: string | null;
  cloud?: { url: string; connected: boolean; user?: string | null };
  watcher?: { running: boolean };
}

/**
 * Call the extension's REST API.
 *
 * @param path - segments below `project-filebrowser/api`, e.g. `['projects', id]`
 * @param init - fetch options (method, body, ...)
 * @param settings - the server connection settings (the app's `serverSettings`)
 * @returns the parsed JSON reply, or `undefined` for an empty body (204)
 * @throws ServerConnection.NetworkError when the server cannot be reached,
 *   ServerConnection.ResponseError for a non-2xx reply
 */
export async function requestAPI<T>(
  path: string[],
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = apiUrl(settings.baseUrl, ...path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  let data: unknown = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }

  if (!response.ok) {
    // The extension replies {"error": {"code": ..., "message": ...}} on failure.
    const message =
      (data as { error?: { message?: string } } | undefined)?.error?.message ??
      `${response.status} ${response.statusText}`;
    throw new ServerConnection.ResponseError(response, message);
  }
  return data as T;
}

/** `GET /status` of the server extension. */
export function getStatus(
  settings?: ServerConnection.ISettings
): Promise<IStatus> {
  return requestAPI<IStatus>(['status'], { method: 'GET' }, settings);
}
