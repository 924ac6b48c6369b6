import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { ApiError, ProjectsApi, errorMessage, getStatus, requestAPI } from '../src/api';
import { fakeServer, trans } from './fixtures';

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

describe('ProjectsApi', () => {
  function recording(status = 200, body: unknown = { items: [] }) {
    return fakeServer(() =>
      status === 204
        ? new Response(null, { status })
        : new Response(JSON.stringify(body), { status })
    );
  }
  const route = (request: Request) => {
    const url = new URL(request.url);
    return `${request.method} ${url.pathname}${url.searchParams.get('scope') ? `?scope=${url.searchParams.get('scope')}` : ''}${url.searchParams.get('project_id') ? `?project_id=${url.searchParams.get('project_id')}` : ''}`;
  };

  it('calls the contract routes under the base url', async () => {
    const { settings, requests } = recording();
    const api = new ProjectsApi(settings);
    await api.projects();
    await api.cloudProjects();
    await api.files('p 1');
    await api.conflicts('p1');
    await api.conflicts();
    await api.jobs();
    expect(requests.map(route)).toEqual([
      'GET /user/alice/project-filebrowser/api/projects',
      'GET /user/alice/project-filebrowser/api/projects?scope=cloud',
      'GET /user/alice/project-filebrowser/api/projects/p%201/files',
      'GET /user/alice/project-filebrowser/api/conflicts?project_id=p1',
      'GET /user/alice/project-filebrowser/api/conflicts',
      'GET /user/alice/project-filebrowser/api/jobs'
    ]);
  });

  it('sends JSON bodies on mutating calls', async () => {
    const { settings, requests } = recording(201, { id: 'x' });
    const api = new ProjectsApi(settings);
    await api.createProject({ name: 'demo', title: 'Demo' });
    await api.link('p1', 'elsewhere/p1');
    await api.sync('p1');
    await api.resolveConflict(7, 'both');
    expect(requests.map(route)).toEqual([
      'POST /user/alice/project-filebrowser/api/projects',
      'POST /user/alice/project-filebrowser/api/projects/p1/link',
      'POST /user/alice/project-filebrowser/api/projects/p1/sync',
      'POST /user/alice/project-filebrowser/api/conflicts/7/resolve'
    ]);
    const bodies = await Promise.all(requests.map(r => r.text()));
    expect(bodies.map(b => JSON.parse(b))).toEqual([
      { name: 'demo', title: 'Demo' },
      { local_path: 'elsewhere/p1' },
      {},
      { keep: 'both' }
    ]);
    expect(requests[0].headers.get('Content-Type')).toBe('application/json');
  });

  it('DELETEs to unlink and to cancel', async () => {
    const { settings, requests } = recording(204);
    const api = new ProjectsApi(settings);
    await api.unlink('p1');
    await api.cancelJob('j1');
    expect(requests.map(route)).toEqual([
      'DELETE /user/alice/project-filebrowser/api/projects/p1/link',
      'DELETE /user/alice/project-filebrowser/api/jobs/j1'
    ]);
  });

  it('carries the error code of the contract', async () => {
    const { settings } = recording(409, {
      error: { code: 'folder_in_use', message: "the folder 'projects/x' is already linked" }
    });
    const failure = new ProjectsApi(settings).createProject({ name: 'x' });
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({ code: 'folder_in_use' });
  });

  it('turns failures into sentences for people', () => {
    expect(errorMessage(new ServerConnection.NetworkError(new TypeError('x')), trans)).toBe(
      'The Jupyter server cannot be reached.'
    );
    expect(errorMessage(new Error('no such project'), trans)).toBe('No such project.');
    expect(errorMessage('plain', trans)).toBe('Plain.');
  });
});
