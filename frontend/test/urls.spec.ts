import { describe, expect, it } from 'vitest';

import { apiUrl, wsUrl } from '../src/urls';

describe('apiUrl', () => {
  it('keeps a non-root base url (JupyterHub /user/<name>/)', () => {
    expect(apiUrl('/user/alice/', 'status')).toBe(
      '/user/alice/project-filebrowser/api/status'
    );
  });

  it('works with a base url without a trailing slash', () => {
    expect(apiUrl('/user/alice', 'projects')).toBe(
      '/user/alice/project-filebrowser/api/projects'
    );
  });

  it('works with the root base url and with a full url', () => {
    expect(apiUrl('/', 'status')).toBe('/project-filebrowser/api/status');
    expect(apiUrl('http://127.0.0.1:8888/user/alice/', 'jobs')).toBe(
      'http://127.0.0.1:8888/user/alice/project-filebrowser/api/jobs'
    );
  });

  it('percent-encodes each segment so a name cannot change the route', () => {
    expect(apiUrl('/user/alice/', 'projects', 'a b/../c', 'sync')).toBe(
      '/user/alice/project-filebrowser/api/projects/a%20b%2F..%2Fc/sync'
    );
  });

  it('returns the namespace itself with no segment', () => {
    expect(apiUrl('/user/alice/')).toBe('/user/alice/project-filebrowser/api');
  });
});

describe('wsUrl', () => {
  it('joins the websocket path under a non-root ws url', () => {
    expect(wsUrl('ws://127.0.0.1:8888/user/alice/')).toBe(
      'ws://127.0.0.1:8888/user/alice/project-filebrowser/ws'
    );
  });
});
