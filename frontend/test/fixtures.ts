import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';

import type { ICloudProject, IConflict, IFileEntry, IJob, ILocalProject } from '../src/types';

/** The bundle the views and selectors are given: English, as typed in the source. */
export const trans = nullTranslator.load('project_filebrowser');

export function project(overrides: Partial<ILocalProject> = {}): ILocalProject {
  const name = overrides.name ?? 'demo';
  return {
    id: `id-${name}`,
    name,
    title: name,
    description: '',
    owner: 'ann',
    local_path: `projects/${name}`,
    status: 'idle',
    last_synced_at: '2026-01-02T03:04:05',
    pending: 0,
    conflicts: 0,
    error: null,
    ...overrides
  };
}

export function job(overrides: Partial<IJob> = {}): IJob {
  return {
    id: 'job-1',
    project_id: 'id-demo',
    kind: 'sync',
    state: 'queued',
    files_done: 0,
    files_total: 0,
    bytes_done: 0,
    bytes_total: 0,
    error: null,
    ...overrides
  };
}

export function conflict(overrides: Partial<IConflict> = {}): IConflict {
  return {
    id: 1,
    project_id: 'id-demo',
    path: 'doc.txt',
    conflict_path: 'doc (conflict 2026-01-02 030405).txt',
    detected_at: '2026-01-02T03:04:05',
    resolved: false,
    ...overrides
  };
}

export function file(path: string, state: IFileEntry['state'] = 'synced', size = 1): IFileEntry {
  return { path, size, state };
}

export function cloudProject(name: string, id = `id-${name}`): ICloudProject {
  return {
    id,
    name,
    title: name,
    description: '',
    owner: 'ann',
    created_at: '2026-01-01T00:00:00',
    updated_at: '2026-01-01T00:00:00',
    head_seq: 0,
    file_count: 0,
    size_bytes: 0
  };
}

/** Server settings under a JupyterHub-like base url whose fetch records requests and
 * answers with `reply(request)`. */
export function fakeServer(reply: (request: Request) => Response): {
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
      return reply(input as Request);
    },
    Request,
    Headers
  });
  return { settings, requests };
}
