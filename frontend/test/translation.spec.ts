import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';

import { errorMessage } from '../src/api';
import { initialState, reduce } from '../src/model';
import { nameProblem } from '../src/names';
import { formatDelay, offlineSentence, overallStatus, projectBadge } from '../src/status';
import type { ServerMessage } from '../src/types';
import { ProjectSocket } from '../src/ws';
import { project, trans } from './fixtures';

/** A bundle that marks what it translates, so a test sees which strings went through it. */
const marked: TranslationBundle = Object.assign(Object.create(trans), {
  __: (msgid: string, ...args: unknown[]) => `‹${trans.__(msgid, ...args)}›`,
  _n: (msgid: string, plural: string, n: number, ...args: unknown[]) =>
    `‹${trans._n(msgid, plural, n, ...args)}›`
});

const message = (m: ServerMessage) => ({ type: 'message' as const, message: m });

describe('translation', () => {
  it('the null translator gives the English of the source, with its placeholders filled', () => {
    expect(offlineSentence({ pending: 2, cloud_url: 'http://c' }, trans)).toBe(
      'The cloud at http://c cannot be reached; 2 changes will sync when it is back.'
    );
    expect(offlineSentence({ pending: 1 }, trans)).toBe(
      'The cloud cannot be reached; 1 change will sync when it is back.'
    );
  });

  it('what the status bar, the badges and the errors say goes through the bundle', () => {
    expect(overallStatus(initialState(), marked).label).toBe('‹Connecting…›');
    let state = reduce(initialState(), message({ type: 'hello', protocol: 1, version: '1' }));
    state = reduce(state, { type: 'projects/loaded', items: [project({ pending: 3 })] });
    expect(overallStatus(state, marked)).toMatchObject({
      label: '‹3 pending›',
      title: '‹3 changes waiting to sync.›'
    });
    expect(projectBadge(state, 'id-demo', marked)?.label).toBe('‹3 pending›');
    expect(formatDelay(5000, marked)).toBe('‹in 5\u00a0s›');
    expect(nameProblem('', marked)).toBe('‹A name is required.›');
    expect(errorMessage(new ServerConnection.NetworkError(new TypeError('x')), marked)).toBe(
      '‹The Jupyter server cannot be reached.›'
    );
  });

  it('the socket reports its errors through the bundle it is given', async () => {
    const socket = new ProjectSocket({ url: () => 'ws://x', trans: marked });
    await expect(socket.request({ type: 'list_projects' })).rejects.toThrow(
      '‹Not connected to the Jupyter server.›'
    );
  });
});
