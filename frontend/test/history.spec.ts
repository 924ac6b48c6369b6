import { describe, expect, it } from 'vitest';

import { ApiError, ProjectsApi, fileRoute, pageQuery } from '../src/api';
import {
  appendPage,
  baseName,
  classifyDiff,
  diffStats,
  isNotebook,
  localTime,
  looksBinary,
  multiline,
  parseTime,
  previousRevision,
  projectOfPath,
  relativeTime,
  shortRevision
} from '../src/history';
import type { IFileVersion } from '../src/types';
import { fakeServer, project, trans } from './fixtures';

/** The API over a fake server that records requests and answers with `reply(request)`. */
function fakeApi(reply: (request: Request) => Response): { api: ProjectsApi; requests: Request[] } {
  const { settings, requests } = fakeServer(reply);
  return { api: new ProjectsApi(settings), requests };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** The request's method, raw path and the query the API set (not makeRequest's
 * cache-busting parameter). */
function route(request: Request): string {
  const url = new URL(request.url);
  const query = [...url.searchParams.entries()]
    .filter(([key]) => ['limit', 'page_token', 'revision', 'from', 'to'].includes(key))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  return `${request.method} ${url.pathname}${query ? `?${query}` : ''}`;
}

function version(revision: string, overrides: Partial<IFileVersion> = {}): IFileVersion {
  return {
    path: 'nb.ipynb',
    revision,
    sha256: 'abc',
    size: 10,
    modified_at: '2026-12-04T02:00:00Z',
    modified_by: 'ann',
    deleted: false,
    mtime_ns: null,
    ...overrides
  };
}

const PREFIX = '/user/alice/project-filebrowser/api/projects';

describe('history API', () => {
  it('encodes a file path per segment: spaces, #, ?, % and unicode stay in their segment', async () => {
    const { api, requests } = fakeApi(() => json({ items: [], next_page_token: null }));
    await api.history('p 1', 'my dir/a #1?.ipynb');
    await api.history('p1', 'données/été 100%.txt');
    expect(requests.map(route)).toEqual([
      `GET ${PREFIX}/p%201/history/my%20dir/a%20%231%3F.ipynb`,
      `GET ${PREFIX}/p1/history/donn%C3%A9es/%C3%A9t%C3%A9%20100%25.txt`
    ]);
    expect(fileRoute('p', 'diff', 'a/b/c')).toEqual(['projects', 'p', 'diff', 'a', 'b', 'c']);
  });

  it('pages with limit and page_token, and leaves them out when not given', async () => {
    const { api, requests } = fakeApi(() =>
      json({ items: [version('r2'), version('r1')], next_page_token: 't&2' })
    );
    const page = await api.history('p1', 'nb.ipynb', 2);
    expect(page.items.map(item => item.revision)).toEqual(['r2', 'r1']);
    expect(page.next_page_token).toBe('t&2');
    await api.history('p1', 'nb.ipynb', 2, page.next_page_token);
    await api.deleted('p1');
    await api.deleted('p1', 50, 'abc');
    expect(requests.map(route)).toEqual([
      `GET ${PREFIX}/p1/history/nb.ipynb?limit=2`,
      `GET ${PREFIX}/p1/history/nb.ipynb?limit=2&page_token=t&2`,
      `GET ${PREFIX}/p1/deleted`,
      `GET ${PREFIX}/p1/deleted?limit=50&page_token=abc`
    ]);
    // the token is encoded in the query string, not taken as a separator
    expect(new URL(requests[1].url).search).toContain('page_token=t%262');
    expect(pageQuery()).toEqual({});
    expect(pageQuery(10, null)).toEqual({ limit: '10' });
  });

  it('fetches a revision as text, even when it looks like JSON', async () => {
    const { api, requests } = fakeApi(() => new Response('{"cells": []}', { status: 200 }));
    await expect(api.content('p1', 'a b.ipynb', 'rev/1')).resolves.toBe('{"cells": []}');
    expect(route(requests[0])).toBe(`GET ${PREFIX}/p1/content/a%20b.ipynb?revision=rev/1`);
    expect(new URL(requests[0].url).search).toContain('revision=rev%2F1');
  });

  it('asks for diffs against the current file or between two revisions', async () => {
    const { api, requests } = fakeApi(() => json({ kind: 'text', diff: '', base: null }));
    await api.diff('p1', 'x.txt', 'r1');
    await api.diff('p1', 'x.txt', 'r1', 'r2');
    expect(requests.map(route)).toEqual([
      `GET ${PREFIX}/p1/diff/x.txt?from=r1`,
      `GET ${PREFIX}/p1/diff/x.txt?from=r1&to=r2`
    ]);
  });

  it('restores a revision, a deleted file, and checkpoints with JSON bodies', async () => {
    const { api, requests } = fakeApi(request =>
      request.url.includes('/checkpoints/')
        ? json({ checkpoint: { id: 'c1' }, undo: { id: 'c2' } })
        : json({ id: 'c1', revision: 'r9' }, request.method === 'POST' ? 201 : 200)
    );
    await api.restore('p1', 'd/x #.txt', 'r1');
    await api.restore('p1', 'gone.txt');
    await api.createCheckpoint('p1', 'before');
    const restored = await api.restoreCheckpoint('p1', 'c 1');
    expect(restored.undo.id).toBe('c2');
    expect(requests.map(route)).toEqual([
      `POST ${PREFIX}/p1/restore/d/x%20%23.txt`,
      `POST ${PREFIX}/p1/restore/gone.txt`,
      `POST ${PREFIX}/p1/checkpoints`,
      `POST ${PREFIX}/p1/checkpoints/c%201/restore`
    ]);
    const bodies = await Promise.all(requests.map(r => r.text()));
    expect(bodies.map(b => JSON.parse(b))).toEqual([
      { revision: 'r1' },
      {},
      { name: 'before' },
      {}
    ]);
    expect(requests[0].headers.get('Content-Type')).toBe('application/json');
  });

  it('lists checkpoints', async () => {
    const { api, requests } = fakeApi(() =>
      json({ items: [{ id: 'c1', name: 'a', seq: 3, created_at: '2026-12-04T00:00:00Z' }] })
    );
    expect((await api.checkpoints('p1')).map(c => c.name)).toEqual(['a']);
    expect(route(requests[0])).toBe(`GET ${PREFIX}/p1/checkpoints`);
  });

  it('carries the error of a failed content or history request', async () => {
    const { api } = fakeApi(() =>
      json({ error: { code: 'not_found', message: 'no revision r0 of x.txt' } }, 404)
    );
    await expect(api.content('p1', 'x.txt', 'r0')).rejects.toMatchObject({
      code: 'not_found',
      message: 'no revision r0 of x.txt'
    });
    await expect(api.history('p1', 'x.txt')).rejects.toBeInstanceOf(ApiError);
  });
});

describe('unified diff lines', () => {
  const diff = [
    '--- a/x.txt',
    '+++ b/x.txt',
    '@@ -1,3 +1,3 @@',
    ' same',
    '-old',
    '+new',
    '+++ also added',
    '--- also removed',
    '\\ No newline at end of file',
    ''
  ].join('\n');

  it('classifies headers, hunks, added, removed and context lines', () => {
    expect(classifyDiff(diff).map(line => line.kind)).toEqual([
      'file',
      'file',
      'hunk',
      'context',
      'del',
      'add',
      'add', // "+++" inside a hunk is an added line
      'del',
      'note'
    ]);
    expect(diffStats(classifyDiff(diff))).toEqual({ added: 2, removed: 2 });
  });

  it('gives nothing for an empty diff', () => {
    expect(classifyDiff('')).toEqual([]);
  });
});

describe('history helpers', () => {
  const now = Date.parse('2026-12-04T03:00:00Z');

  it('says how long ago, in words', () => {
    expect(relativeTime('2026-12-04T02:59:50Z', now, trans)).toBe('just now');
    expect(relativeTime('2026-12-04T02:58:00Z', now, trans)).toBe('2 minutes ago');
    expect(relativeTime('2026-12-04T02:59:00Z', now, trans)).toBe('1 minute ago');
    expect(relativeTime('2026-12-04T00:00:00', now, trans)).toBe('3 hours ago'); // no zone: UTC
    expect(relativeTime('2026-12-01T03:00:00Z', now, trans)).toBe('3 days ago');
    expect(relativeTime('2026-12-04T05:00:00Z', now, trans)).toBe('in 2 hours');
    expect(relativeTime('nonsense', now, trans)).toBe('nonsense');
  });

  it('parses server times with and without a zone', () => {
    expect(parseTime('2026-12-04T03:00:00')?.getTime()).toBe(now);
    expect(parseTime('2026-12-04T04:00:00+01:00')?.getTime()).toBe(now);
    expect(parseTime('x')).toBeNull();
    expect(localTime('x')).toBe('x');
    expect(localTime('2026-12-04T03:00:00Z')).toContain('2026');
  });

  it('finds the linked project of a file browser path, the deepest one first', () => {
    const outer = project({ name: 'outer', local_path: 'projects/outer' });
    const inner = project({ name: 'inner', local_path: 'projects/outer/sub/inner' });
    const projects = [outer, inner];
    expect(projectOfPath(projects, 'projects/outer/a b.ipynb')).toEqual({
      project: outer,
      path: 'a b.ipynb'
    });
    expect(projectOfPath(projects, 'projects/outer/sub/inner/x/y.txt')).toEqual({
      project: inner,
      path: 'x/y.txt'
    });
    expect(projectOfPath(projects, '/projects/outer/z.txt')?.path).toBe('z.txt');
    expect(projectOfPath(projects, 'projects/outerx/z.txt')).toBeNull();
    expect(projectOfPath(projects, 'projects/outer')).toBeNull();
    expect(projectOfPath(projects, 'elsewhere.txt')).toBeNull();
  });

  it('finds the revision before, skipping deletions', () => {
    const items = [version('r4'), version('r3', { deleted: true }), version('r2'), version('r1')];
    expect(previousRevision(items, 'r4')?.revision).toBe('r2');
    expect(previousRevision(items, 'r2')?.revision).toBe('r1');
    expect(previousRevision(items, 'r1')).toBeNull();
    expect(previousRevision(items, 'nope')).toBeNull();
  });

  it('appends a page without repeating revisions', () => {
    const merged = appendPage([version('r3'), version('r2')], [version('r2'), version('r1')]);
    expect(merged.map(item => item.revision)).toEqual(['r3', 'r2', 'r1']);
  });

  it('tells notebooks, binary content and names', () => {
    expect(isNotebook('a/B.IPYNB')).toBe(true);
    expect(isNotebook('a.py')).toBe(false);
    expect(looksBinary('plain text\n')).toBe(false);
    expect(looksBinary('')).toBe(false);
    expect(looksBinary('PNG\u0000\u0001')).toBe(true);
    expect(looksBinary('\uFFFD\uFFFD\uFFFDab')).toBe(true);
    expect(multiline(['a\n', 'b'])).toBe('a\nb');
    expect(multiline('x')).toBe('x');
    expect(multiline(undefined)).toBe('');
    expect(baseName('a/b/c.txt')).toBe('c.txt');
    expect(baseName('c.txt')).toBe('c.txt');
    expect(shortRevision('0123456789abcdef')).toBe('01234567');
    expect(shortRevision('r1')).toBe('r1');
  });
});

describe('history GETs', () => {
  it('and POSTs add no cache-busting parameter (the routes refuse unknown ones)', async () => {
    const { api, requests } = fakeApi(() => json({ items: [], next_page_token: null }));
    await api.history('p1', 'x.txt', 5);
    await api.deleted('p1');
    await api.checkpoints('p1');
    await api.diff('p1', 'x.txt', 'r1');
    await api.restore('p1', 'x.txt', 'r1');
    await api.createCheckpoint('p1', 'a');
    await api.restoreCheckpoint('p1', 'c1');
    await api.content('p1', 'x.txt', 'r1');
    expect(requests).toHaveLength(8);
    for (const request of requests) {
      const keys = [...new URL(request.url).searchParams.keys()];
      expect(keys.every(key => ['limit', 'page_token', 'from', 'to', 'revision'].includes(key))).toBe(
        true
      );
    }
  });
});
