import { URLExt } from '@jupyterlab/coreutils';

/** Path, below the server's base URL, of the extension's REST API. */
export const API_NAMESPACE = 'project-filebrowser/api';

/** Path, below the server's websocket URL, of the extension's websocket. */
export const WS_PATH = 'project-filebrowser/ws';

/**
 * The URL of a REST endpoint of the extension.
 *
 * `baseUrl` is the Jupyter server's base URL (`ServerConnection.ISettings.baseUrl`),
 * which is not `/` under JupyterHub (`/user/<name>/`). Each segment is
 * percent-encoded, so a project id or a file name cannot change the route.
 *
 *   apiUrl('/user/alice/', 'projects', 'a b') === '/user/alice/project-filebrowser/api/projects/a%20b'
 */
export function apiUrl(baseUrl: string, ...segments: string[]): string {
  return URLExt.join(
    baseUrl,
    API_NAMESPACE,
    ...segments.map(segment => encodeURIComponent(segment))
  );
}

/** The URL of the extension's websocket, from the server's `wsUrl`. */
export function wsUrl(serverWsUrl: string): string {
  return URLExt.join(serverWsUrl, WS_PATH);
}
