import { describe, expect, it } from 'vitest';

import {
  Action,
  IState,
  initialState,
  reduce
} from '../src/model';
import { offlineSentence, overallStatus, projectBadge } from '../src/status';
import type { ServerMessage } from '../src/types';
import { file, job, project, trans } from './fixtures';

const msg = (message: ServerMessage): Action => ({ type: 'message', message });
const hello = msg({ type: 'hello', protocol: 1, version: '0.1.0' });
const cloudUrl = 'http://127.0.0.1:8765';

function online(...actions: Action[]): IState {
  return [hello, { type: 'projects/loaded', items: [project()] } as Action, ...actions].reduce(
    reduce,
    initialState()
  );
}

const offline = (pending: number) =>
  msg({
    type: 'project_updated',
    project: project({ status: 'offline', pending, cloud_url: cloudUrl, error: 'cannot reach' })
  });

describe('local changes while the cloud is offline', () => {
  it('a file_status brings the new state and the new size', () => {
    const state = online(
      { type: 'files/loading', projectId: 'id-demo' },
      { type: 'files/loaded', projectId: 'id-demo', items: [file('nb.ipynb', 'synced', 879)] },
      msg({
        type: 'file_status',
        project_id: 'id-demo',
        path: 'nb.ipynb',
        state: 'pending_push',
        size: 890
      })
    );
    expect(state.files['id-demo'].items['nb.ipynb']).toEqual({
      path: 'nb.ipynb',
      state: 'pending_push',
      size: 890
    });
  });

  it('a new size alone is a change; an event without one keeps the known size', () => {
    const base = online(
      { type: 'files/loading', projectId: 'id-demo' },
      { type: 'files/loaded', projectId: 'id-demo', items: [file('a', 'pending_push', 5)] }
    );
    const grown = reduce(
      base,
      msg({ type: 'file_status', project_id: 'id-demo', path: 'a', state: 'pending_push', size: 7 })
    );
    expect(grown.files['id-demo'].items.a.size).toBe(7);
    const same = reduce(
      grown,
      msg({ type: 'file_status', project_id: 'id-demo', path: 'a', state: 'synced' })
    );
    expect(same.files['id-demo'].items.a).toEqual({ path: 'a', state: 'synced', size: 7 });
  });

  it('the project and the status bar say offline and how many changes wait', () => {
    const state = online(offline(3));
    expect(projectBadge(state, 'id-demo', trans)).toMatchObject({
      kind: 'offline',
      label: 'offline \u2014 3 changes waiting'
    });
    expect(overallStatus(state, trans)).toMatchObject({
      kind: 'offline',
      label: 'Cloud offline \u2014 3 changes waiting',
      title: `The cloud at ${cloudUrl} cannot be reached; 3 changes will sync when it is back.`
    });
    expect(projectBadge(online(offline(0)), 'id-demo', trans)?.label).toBe('offline');
  });

  it('a sync retrying an offline cloud does not hide that it is offline', () => {
    const state = online(offline(1), msg({ type: 'job_progress', job: job({ state: 'running' }) }));
    expect(projectBadge(state, 'id-demo', trans)?.kind).toBe('offline');
    expect(overallStatus(state, trans).kind).toBe('offline');
  });

  it('says why nothing syncs, with the cloud URL and the count', () => {
    expect(offlineSentence({ pending: 1, cloud_url: cloudUrl }, trans)).toBe(
      `The cloud at ${cloudUrl} cannot be reached; 1 change will sync when it is back.`
    );
    expect(offlineSentence({ pending: 0 }, trans)).toBe(
      'The cloud cannot be reached; changes sync when it is back.'
    );
  });
});
