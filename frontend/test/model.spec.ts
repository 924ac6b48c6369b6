// The reducer's and the selectors' tests: over 400 lines because they cover one module's
// every action and message, one describe each; split, they would share these fixtures.
import { describe, expect, it, vi } from 'vitest';

import {
  Action,
  FINISHED_JOBS_KEPT,
  IState,
  Store,
  activeJob,
  applyFileEvent,
  fileCounts,
  fileList,
  initialState,
  jobProgress,
  matchesQuery,
  openConflicts,
  reduce,
  sortedProjects,
  unlinkedCloudProjects
} from '../src/model';
import { formatBytes, formatDelay, formatTime, overallStatus, projectBadge } from '../src/status';
import type { ServerMessage } from '../src/types';
import { cloudProject, conflict, file, job, project, trans } from './fixtures';

function run(...actions: Action[]): IState {
  return actions.reduce(reduce, initialState());
}

const msg = (message: ServerMessage): Action => ({ type: 'message', message });
const hello = msg({ type: 'hello', protocol: 1, version: '0.1.0' });
const demo = project();
const online = (...actions: Action[]) =>
  run(hello, { type: 'projects/loaded', items: [demo] }, ...actions);

describe('connection', () => {
  it('starts connecting, goes online on hello, offline on close', () => {
    expect(initialState().connection.state).toBe('connecting');
    let state = run(hello);
    expect(state.connection).toMatchObject({
      state: 'online',
      serverVersion: '0.1.0',
      everConnected: true,
      attempt: 0
    });
    state = reduce(state, {
      type: 'disconnected',
      attempt: 2,
      retryAt: 1000,
      error: 'code 1006'
    });
    expect(state.connection).toMatchObject({
      state: 'offline',
      attempt: 2,
      retryAt: 1000,
      error: 'code 1006',
      everConnected: true
    });
    state = reduce(state, { type: 'connecting', attempt: 2 });
    expect(state.connection).toMatchObject({ state: 'connecting', retryAt: null });
    expect(reduce(state, hello).connection).toMatchObject({ state: 'online', error: null });
  });

  it('keeps the data it had while offline', () => {
    const state = reduce(online(), { type: 'disconnected', attempt: 1, retryAt: 5, error: null });
    expect(state.projects[demo.id]).toEqual(demo);
  });
});

describe('projects', () => {
  it('loads the list, sorted by name regardless of case', () => {
    const state = run({
      type: 'projects/loaded',
      items: [project({ name: 'beta' }), project({ name: 'Alpha' }), project({ name: 'gamma' })]
    });
    expect(state.projectsStatus).toBe('loaded');
    expect(sortedProjects(state).map(p => p.name)).toEqual(['Alpha', 'beta', 'gamma']);
  });

  it('applies a projects message like a REST list', () => {
    const state = run(msg({ type: 'projects', items: [demo] }));
    expect(state.projectsStatus).toBe('loaded');
    expect(Object.keys(state.projects)).toEqual([demo.id]);
  });

  it('records a failed load and clears it on the next load', () => {
    let state = run({ type: 'projects/loading' }, { type: 'projects/failed', error: 'boom' });
    expect(state).toMatchObject({ projectsStatus: 'error', projectsError: 'boom' });
    state = reduce(state, { type: 'projects/loading' });
    expect(state).toMatchObject({ projectsStatus: 'loading', projectsError: null });
  });

  it('upserts on project_updated, adding a project linked elsewhere', () => {
    const other = project({ name: 'other' });
    let state = online(msg({ type: 'project_updated', project: other }));
    expect(Object.keys(state.projects).sort()).toEqual([demo.id, other.id].sort());
    state = reduce(
      state,
      msg({ type: 'project_updated', project: { ...demo, status: 'syncing' } })
    );
    expect(state.projects[demo.id].status).toBe('syncing');
  });

  it('forgets everything about a project unlinked here or in another tab, or no longer listed', () => {
    const other = project({ name: 'other' });
    const base = run(
      hello,
      { type: 'projects/loaded', items: [demo, other] },
      { type: 'expand', projectId: demo.id, expanded: true },
      { type: 'files/loading', projectId: demo.id },
      { type: 'files/loaded', projectId: demo.id, items: [file('a.txt')] },
      msg({ type: 'job_progress', job: job() }),
      msg({ type: 'conflict', conflict: conflict() })
    );
    for (const state of [
      reduce(base, { type: 'project/unlinked', projectId: demo.id }),
      reduce(base, msg({ type: 'project_removed', project_id: demo.id })),
      reduce(base, { type: 'projects/loaded', items: [other] })
    ]) {
      expect(state.projects[demo.id]).toBeUndefined();
      expect(state.files[demo.id]).toBeUndefined();
      expect(state.expanded[demo.id]).toBeUndefined();
      expect(Object.keys(state.jobs)).toEqual([]);
      expect(Object.keys(state.conflicts)).toEqual([]);
      expect(state.projects[other.id]).toEqual(other);
    }
  });

  it('adds a project created or linked here', () => {
    const state = run({ type: 'project/linked', project: demo });
    expect(state.projects[demo.id]).toEqual(demo);
  });

  it('searches names, titles, descriptions and folders, every word', () => {
    const p = project({ name: 'sales-2024', title: 'Quarterly Sales', description: 'EMEA numbers' });
    expect(matchesQuery(p, '')).toBe(true);
    expect(matchesQuery(p, '  ')).toBe(true);
    expect(matchesQuery(p, 'SALES')).toBe(true);
    expect(matchesQuery(p, 'quarterly emea')).toBe(true);
    expect(matchesQuery(p, 'projects/sales')).toBe(true);
    expect(matchesQuery(p, 'quarterly apac')).toBe(false);
  });
});

describe('cloud projects', () => {
  it('lists the ones not linked here, by name', () => {
    const state = online(
      { type: 'cloud/loading' },
      {
        type: 'cloud/loaded',
        items: [cloudProject('zeta'), cloudProject('demo', demo.id), cloudProject('alpha')]
      }
    );
    expect(state.cloud.status).toBe('loaded');
    expect(unlinkedCloudProjects(state).map(p => p.name)).toEqual(['alpha', 'zeta']);
  });

  it('keeps the previous list when a refresh fails', () => {
    const state = online(
      { type: 'cloud/loaded', items: [cloudProject('alpha')] },
      { type: 'cloud/loading' },
      { type: 'cloud/failed', error: 'cloud down' }
    );
    expect(state.cloud).toMatchObject({ status: 'error', error: 'cloud down' });
    expect(state.cloud.items).toHaveLength(1);
  });
});

describe('files', () => {
  const loaded = (...actions: Action[]) =>
    online(
      { type: 'files/loading', projectId: demo.id },
      {
        type: 'files/loaded',
        projectId: demo.id,
        items: [file('b.txt'), file('a/z.txt', 'pending_push', 5)]
      },
      ...actions
    );

  it('loads a listing and sorts it by path', () => {
    const state = loaded();
    expect(state.files[demo.id].status).toBe('loaded');
    expect(fileList(state, demo.id).map(f => f.path)).toEqual(['a/z.txt', 'b.txt']);
  });

  it('applies file_status: a new file with unknown size, a state change, a deletion', () => {
    let state = loaded(
      msg({ type: 'file_status', project_id: demo.id, path: 'new.md', state: 'pending_push' })
    );
    expect(state.files[demo.id].items['new.md']).toEqual({
      path: 'new.md',
      size: null,
      state: 'pending_push'
    });
    state = reduce(
      state,
      msg({ type: 'file_status', project_id: demo.id, path: 'a/z.txt', state: 'synced' })
    );
    expect(state.files[demo.id].items['a/z.txt']).toEqual(file('a/z.txt', 'synced', 5));
    state = reduce(
      state,
      msg({ type: 'file_status', project_id: demo.id, path: 'b.txt', state: 'deleted' })
    );
    expect(fileList(state, demo.id).map(f => f.path)).toEqual(['a/z.txt', 'new.md']);
  });

  it('ignores file_status for a project whose files were never asked for', () => {
    const state = online();
    const next = reduce(
      state,
      msg({ type: 'file_status', project_id: demo.id, path: 'x', state: 'synced' })
    );
    expect(next).toBe(state);
  });

  it('returns the same state for an event that changes nothing', () => {
    const state = loaded();
    expect(
      reduce(state, msg({ type: 'file_status', project_id: demo.id, path: 'b.txt', state: 'synced' }))
    ).toBe(state);
    expect(
      reduce(state, msg({ type: 'file_status', project_id: demo.id, path: 'gone', state: 'deleted' }))
    ).toBe(state);
  });

  it('replays events that arrived during a fetch over its result', () => {
    const state = online(
      { type: 'files/loading', projectId: demo.id },
      msg({ type: 'file_status', project_id: demo.id, path: 'a.txt', state: 'pending_pull' }),
      msg({ type: 'file_status', project_id: demo.id, path: 'a.txt', state: 'synced' }),
      msg({ type: 'file_status', project_id: demo.id, path: 'old.txt', state: 'deleted' }),
      {
        type: 'files/loaded',
        projectId: demo.id,
        items: [file('a.txt', 'pending_pull', 3), file('old.txt')]
      }
    );
    expect(fileList(state, demo.id)).toEqual([file('a.txt', 'synced', 3)]);
    expect(state.files[demo.id].queued).toEqual([]);
  });

  it('keeps the old items while refetching, and on failure', () => {
    let state = loaded({ type: 'files/loading', projectId: demo.id });
    expect(state.files[demo.id].status).toBe('loading');
    expect(fileList(state, demo.id)).toHaveLength(2);
    state = reduce(state, { type: 'files/failed', projectId: demo.id, error: 'nope' });
    expect(state.files[demo.id]).toMatchObject({ status: 'error', error: 'nope' });
    expect(fileList(state, demo.id)).toHaveLength(2);
  });

  it('drops a listing that arrives after its project was unlinked', () => {
    const state = online(
      { type: 'files/loading', projectId: demo.id },
      { type: 'project/unlinked', projectId: demo.id },
      { type: 'files/loaded', projectId: demo.id, items: [file('a')] }
    );
    expect(state.files[demo.id]).toBeUndefined();
  });

  it('hides ignored files unless asked, and counts every state', () => {
    const state = online(
      { type: 'files/loading', projectId: demo.id },
      {
        type: 'files/loaded',
        projectId: demo.id,
        items: [
          file('a', 'synced'),
          file('b', 'ignored'),
          file('c', 'pending_pull'),
          file('d', 'conflict'),
          file('e', 'failed')
        ]
      }
    );
    expect(fileList(state, demo.id).map(f => f.path)).toEqual(['a', 'c', 'd', 'e']);
    expect(fileList(state, demo.id, { showIgnored: true })).toHaveLength(5);
    expect(fileCounts(state, demo.id)).toEqual({
      synced: 1,
      pending_push: 0,
      pending_pull: 1,
      conflict: 1,
      ignored: 1,
      deleted_locally: 0,
      skipped: 0,
      failed: 1
    });
    expect(fileList(state, 'unknown')).toEqual([]);
  });

  it('applyFileEvent keeps why a path failed, and drops it once it syncs', () => {
    const items = { 'big.bin': file('big.bin', 'pending_push', 9) };
    const failed = applyFileEvent(items, {
      path: 'big.bin',
      state: 'failed',
      reason: 'too large (failed once; tried again at 10:00:00, or now with Sync)'
    });
    expect(failed['big.bin']).toEqual({
      path: 'big.bin',
      size: 9,
      state: 'failed',
      reason: 'too large (failed once; tried again at 10:00:00, or now with Sync)'
    });
    expect(applyFileEvent(failed, { path: 'big.bin', state: 'synced' })['big.bin']).toEqual({
      path: 'big.bin',
      size: 9,
      state: 'synced'
    });
  });

  it('applyFileEvent keeps the known size', () => {
    const items = { 'a.txt': file('a.txt', 'synced', 42) };
    expect(applyFileEvent(items, { path: 'a.txt', state: 'pending_push' })['a.txt'].size).toBe(
      42
    );
  });
});

describe('jobs', () => {
  it('tracks a job from queued to done and finds the active one', () => {
    let state = online(msg({ type: 'job_progress', job: job() }));
    expect(activeJob(state, demo.id)?.state).toBe('queued');
    state = reduce(
      state,
      msg({
        type: 'job_progress',
        job: job({ state: 'running', files_total: 4, files_done: 1 })
      })
    );
    expect(activeJob(state, demo.id)).toMatchObject({ state: 'running', files_done: 1 });
    state = reduce(state, msg({ type: 'job_finished', job: job({ state: 'done' }) }));
    expect(activeJob(state, demo.id)).toBeNull();
    expect(state.jobs['job-1'].state).toBe('done');
  });

  it('prefers the running job over a queued one', () => {
    const state = online(
      msg({ type: 'job_progress', job: job({ id: 'q', state: 'queued' }) }),
      msg({ type: 'job_progress', job: job({ id: 'r', state: 'running' }) })
    );
    expect(activeJob(state, demo.id)?.id).toBe('r');
  });

  it('keeps every active job but only the last finished ones', () => {
    const actions: Action[] = [msg({ type: 'job_progress', job: job({ id: 'active', state: 'running' }) })];
    for (let i = 0; i < FINISHED_JOBS_KEPT + 5; i++) {
      actions.push(msg({ type: 'job_finished', job: job({ id: `done-${i}`, state: 'done' }) }));
    }
    const state = online(...actions);
    expect(state.jobs['active']).toBeDefined();
    expect(state.jobs['done-0']).toBeUndefined();
    expect(state.jobs[`done-${FINISHED_JOBS_KEPT + 4}`]).toBeDefined();
    expect(Object.keys(state.jobs)).toHaveLength(FINISHED_JOBS_KEPT + 1);
  });

  it('replaces the jobs with a REST listing', () => {
    const state = online(
      msg({ type: 'job_progress', job: job({ id: 'stale' }) }),
      { type: 'jobs/loaded', items: [job({ id: 'fresh', state: 'running' })] }
    );
    expect(Object.keys(state.jobs)).toEqual(['fresh']);
  });

  it('measures progress by bytes, else by files, else unknown', () => {
    expect(jobProgress(job({ bytes_total: 200, bytes_done: 50, files_total: 2, files_done: 2 }))).toBe(0.25);
    expect(jobProgress(job({ files_total: 4, files_done: 1 }))).toBe(0.25);
    expect(jobProgress(job())).toBeNull();
    expect(jobProgress(job({ files_total: 1, files_done: 3 }))).toBe(1);
  });
});

describe('conflicts', () => {
  it('lists open conflicts newest first and marks their files', () => {
    const state = online(
      { type: 'files/loading', projectId: demo.id },
      { type: 'files/loaded', projectId: demo.id, items: [file('doc.txt')] },
      msg({ type: 'conflict', conflict: conflict() }),
      msg({
        type: 'conflict',
        conflict: conflict({ id: 2, path: 'b', conflict_path: 'b (c)', detected_at: '2026-02-01T00:00:00' })
      })
    );
    expect(openConflicts(state).map(c => c.id)).toEqual([2, 1]);
    expect(openConflicts(state, 'other')).toEqual([]);
    expect(state.files[demo.id].items['doc.txt'].state).toBe('conflict');
    expect(state.files[demo.id].items[conflict().conflict_path]).toEqual({
      path: conflict().conflict_path,
      size: null,
      state: 'conflict'
    });
  });

  it('marks conflicted paths in a listing that arrives later', () => {
    const state = online(
      { type: 'conflicts/loaded', items: [conflict()] },
      { type: 'files/loading', projectId: demo.id },
      {
        type: 'files/loaded',
        projectId: demo.id,
        items: [file('doc.txt'), file(conflict().conflict_path)]
      }
    );
    expect(fileCounts(state, demo.id).conflict).toBe(2);
  });

  it('on resolution: counts it off the project and clears the file marks', () => {
    let state = run(
      hello,
      { type: 'projects/loaded', items: [project({ conflicts: 1 })] },
      { type: 'files/loading', projectId: demo.id },
      { type: 'files/loaded', projectId: demo.id, items: [file('doc.txt')] },
      msg({ type: 'conflict', conflict: conflict() })
    );
    state = reduce(state, msg({ type: 'conflict', id: 'r1', conflict: conflict({ resolved: true }) }));
    expect(openConflicts(state)).toEqual([]);
    expect(state.projects[demo.id].conflicts).toBe(0);
    expect(state.files[demo.id].items['doc.txt'].state).toBe('synced');
    // the same resolution seen twice does not count twice
    const again = reduce(state, msg({ type: 'conflict', conflict: conflict({ resolved: true }) }));
    expect(again.projects[demo.id].conflicts).toBe(0);
  });

  it('replaces only the listed project\'s conflicts on a filtered load', () => {
    const state = online(
      msg({ type: 'conflict', conflict: conflict({ id: 1 }) }),
      msg({ type: 'conflict', conflict: conflict({ id: 2, project_id: 'id-other' }) }),
      { type: 'conflicts/loaded', items: [], projectId: demo.id }
    );
    expect(Object.keys(state.conflicts)).toEqual(['2']);
    const all = reduce(state, { type: 'conflicts/loaded', items: [conflict({ id: 3 })] });
    expect(Object.keys(all.conflicts)).toEqual(['3']);
  });
});

describe('errors', () => {
  it('keeps an error that answers no request, ignores one that does', () => {
    const state = online(msg({ type: 'error', code: 'bad', message: 'Bad thing.' }));
    expect(state.lastError).toEqual({ code: 'bad', message: 'Bad thing.' });
    expect(reduce(state, { type: 'error/dismiss' }).lastError).toBeNull();
    const replied = online();
    expect(reduce(replied, msg({ type: 'error', id: 'r1', code: 'x', message: 'y' }))).toBe(replied);
  });

  it('ignores pong and subscribed', () => {
    const state = online();
    expect(reduce(state, msg({ type: 'pong' }))).toBe(state);
    expect(reduce(state, msg({ type: 'subscribed', projects: null }))).toBe(state);
  });
});

describe('expand', () => {
  it('toggles and returns the same state when nothing changes', () => {
    const state = online({ type: 'expand', projectId: demo.id, expanded: true });
    expect(state.expanded[demo.id]).toBe(true);
    expect(reduce(state, { type: 'expand', projectId: demo.id, expanded: true })).toBe(state);
  });
});

describe('projectBadge', () => {
  const badge = (...actions: Action[]) => projectBadge(online(...actions), demo.id, trans);
  const updated = (overrides: Parameters<typeof project>[0]) =>
    msg({ type: 'project_updated', project: project(overrides) });

  it('says synced, pending, queued, syncing with progress', () => {
    expect(badge()?.kind).toBe('synced');
    expect(badge(updated({ pending: 3 }))).toMatchObject({ kind: 'pending', label: '3 pending' });
    expect(badge(msg({ type: 'job_progress', job: job() }))?.kind).toBe('queued');
    expect(
      badge(
        msg({
          type: 'job_progress',
          job: job({ state: 'running', files_total: 4, files_done: 1 })
        })
      )
    ).toMatchObject({ kind: 'syncing', label: 'syncing 25%', progress: 0.25 });
    expect(badge(updated({ status: 'syncing' }))).toMatchObject({ kind: 'syncing', progress: null });
  });

  it('says error, paused and cloud offline with the reason', () => {
    expect(badge(updated({ status: 'error', error: 'disk full' }))).toMatchObject({
      kind: 'error',
      title: 'Sync failed: disk full'
    });
    expect(badge(updated({ status: 'paused', error: 'would delete 80%' }))).toMatchObject({
      kind: 'paused',
      title: 'Paused: would delete 80%'
    });
    expect(badge(updated({ status: 'offline' }))?.kind).toBe('offline');
  });

  it('says offline for every project while the server is unreachable', () => {
    expect(badge({ type: 'disconnected', attempt: 1, retryAt: null, error: null })?.kind).toBe(
      'offline'
    );
  });

  it('is null for an unknown project', () => {
    expect(projectBadge(online(), 'nope', trans)).toBeNull();
  });
});

describe('overallStatus', () => {
  it('follows the connection first', () => {
    expect(overallStatus(initialState(), trans).kind).toBe('connecting');
    vi.useFakeTimers();
    vi.setSystemTime(10_000);
    const offline = overallStatus(
      online({ type: 'disconnected', attempt: 1, retryAt: 14_000, error: 'code 1006' }),
      trans
    );
    vi.useRealTimers();
    expect(offline).toMatchObject({ kind: 'offline', label: 'Offline' });
    expect(offline.title).toContain('in 4\u00a0s');
    expect(offline.title).toContain('code 1006');
  });

  it('then says what matters most across projects', () => {
    expect(overallStatus(run(hello, { type: 'projects/loaded', items: [] }), trans).kind).toBe('empty');
    expect(overallStatus(online(), trans).kind).toBe('synced');
    const two = (a: object, b: object) =>
      overallStatus(
        run(hello, {
          type: 'projects/loaded',
          items: [project({ name: 'a', ...a }), project({ name: 'b', ...b })]
        }),
        trans
      );
    expect(two({ status: 'error', error: 'x' }, { conflicts: 2 })).toMatchObject({
      kind: 'error',
      title: 'a: x'
    });
    expect(two({ conflicts: 2 }, { conflicts: 1 })).toMatchObject({
      kind: 'conflicts',
      label: '3 conflicts'
    });
    expect(two({ status: 'paused' }, {}).kind).toBe('paused');
    expect(two({ status: 'offline' }, {}).kind).toBe('offline');
    expect(two({ pending: 2 }, { pending: 1 })).toMatchObject({ kind: 'pending', label: '3 pending' });
  });

  it('sums the progress of running jobs', () => {
    const state = online(
      msg({
        type: 'job_progress',
        job: job({ id: 'j1', state: 'running', files_done: 1, files_total: 2 })
      }),
      msg({ type: 'project_updated', project: project({ name: 'b', id: 'id-b' }) }),
      msg({
        type: 'job_progress',
        job: job({ id: 'j2', project_id: 'id-b', state: 'running', files_done: 1, files_total: 2 })
      })
    );
    expect(overallStatus(state, trans)).toMatchObject({
      kind: 'syncing',
      label: 'Syncing 2/4',
      progress: 0.5
    });
  });
});

describe('formatting', () => {
  it('formats bytes', () => {
    expect(formatBytes(0, trans)).toBe('0 B');
    expect(formatBytes(1023, trans)).toBe('1023 B');
    expect(formatBytes(1536, trans)).toBe('1.5 KB');
    expect(formatBytes(12 * 1024 * 1024, trans)).toBe('12 MB');
    expect(formatBytes(null, trans)).toBe('');
    expect(formatBytes(-1, trans)).toBe('');
  });

  it('formats delays', () => {
    expect(formatDelay(0, trans)).toBe('now');
    expect(formatDelay(3200, trans)).toBe('in 4\u00a0s');
    expect(formatDelay(90_000, trans)).toBe('in 2\u00a0min');
  });

  it('reads server times as UTC and keeps what it cannot parse', () => {
    expect(formatTime('not a date')).toBe('not a date');
    expect(formatTime('2026-01-02T03:04:05')).toBe(formatTime('2026-01-02T03:04:05Z'));
    expect(formatTime('2026-01-02T03:04:05+00:00')).toBe(formatTime('2026-01-02T03:04:05Z'));
  });
});

describe('Store', () => {
  it('tells listeners about changes only', () => {
    const store = new Store();
    const listener = vi.fn();
    const stop = store.subscribe(listener);
    store.dispatch(hello);
    expect(listener).toHaveBeenCalledTimes(1);
    store.dispatch({ type: 'error/dismiss' }); // no change
    expect(listener).toHaveBeenCalledTimes(1);
    stop();
    store.dispatch({ type: 'projects/loading' });
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.state.projectsStatus).toBe('loading');
  });
});
