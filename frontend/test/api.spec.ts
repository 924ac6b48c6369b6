import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { getStatus, requestAPI } from '../src/api';

/** Server settings under a JupyterHub-like base url whose fetch records requests. */
function fakeServer(reply: () => Response): {
  settings: ServerConnection.ISettings;
  requests: Request[];
} {
  const requests: Request[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/user/alice/',
    wsUrl: 'ws://127.0.0.1:8888/user/alice/',
    token: 'secret',
    fetch: async (input: RequestInfo | URL) => {
      requests.push(input as Request);
      return reply();
    },
    Request,
    Headers
  });
  return { settings, requests };
}

describe('requestAPI', () => {
  it('GETs /status under the base url with the token and parses the reply', async () => {
    const { settings, requests } = fakeServer(
      () => new Response(JSON.stringify({ version: '0.1.0' }), { status: 200 })
    );
    const status = await getStatus(settings);
    expect(status.version).toBe('0.1.0');
    expect(requests).toHaveLength(1);
    expect(requests[0].method).toBe('GET');
    // makeRequest appends a cache-busting query to GETs; the route is what counts.
    const url = new URL(requests[0].url);
    expect(url.origin + url.pathname).toBe(
      'http://127.0.0.1:8888/user/alice/project-filebrowser/api/status'
    );
    expect(requests[0].headers.get('Authorization')).toBe('token secret');
  });

  it('turns the contract error body into a ResponseError message', async () => {
    const { settings } = fakeServer(
      () =>
        new Response(
          JSON.stringify({
            error: { code: 'not_found', message: 'No project 42.' }
          }),
          { status: 404, statusText: 'Not Found' }
        )
    );
    const failure = requestAPI(['projects', '42'], {}, settings);
    await expect(failure).rejects.toBeInstanceOf(
      ServerConnection.ResponseError
    );
    await expect(failure).rejects.toThrow('No project 42.');
  });

  it('returns undefined for an empty 204 reply', async () => {
    const { settings } = fakeServer(() => new Response(null, { status: 204 }));
    await expect(
      requestAPI(['jobs', 'j1'], { method: 'DELETE' }, settings)
    ).resolves.toBeUndefined();
  });

  it('wraps an unreachable server in a NetworkError', async () => {
    const { settings } = fakeServer(() => {
      throw new TypeError('fetch failed');
    });
    await expect(getStatus(settings)).rejects.toBeInstanceOf(
      ServerConnection.NetworkError
    );
  });
});
