import type { IConflict, IFileEntry, IJob, ILocalProject } from '../src/types';

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
