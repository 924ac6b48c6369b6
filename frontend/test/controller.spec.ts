// The controller's tests: over 400 lines because they drive one class through its
// connect, refetch and request races with the one pair of fakes defined here.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { IProjectsApi, ISocket, ProjectsController } from '../src/controller';
import type { ClientRequest, IConflict, ILocalProject, IReplyOf, ServerMessage } from '../src/types';
import type { ISocketStatus } from '../src/ws';
import { cloudProject, conflict, file, job, project } from './fixtures';

/** A socket whose requests the test answers by type. */
class FakeSocket implements ISocket {
  isOpen = false;
  status: ISocketStatus = { state: 'closed', attempt: 0, retryAt: null, error: null };
  started = 0;
  reconnects = 0;
  requests: ClientRequest[] = [];
  replies: Partial<{ [K in ClientRequest['type']]: (request: ClientRequest) => unknown }> = {};
  private _messages = new Set<(message: ServerMessage) => void>();
  private _statuses = new Set<(status: ISocketStatus) => void>();

  start(): void {
    this.started += 1;
  }
  stop(): void {
    this.isOpen = false;
  }
  reconnectNow(): void {
    this.reconnects += 1;
  }
  onMessage(listener: (message: ServerMessage) => void): () => void {
    this._messages.add(listener);
    return () => this._messages.delete(listener);
  }
  onStatus(listener: (status: ISocketStatus) => void): () => void {
    this._statuses.add(listener);
    return () => this._statuses.delete(listener);
  }
  async request<R extends ClientRequest>(message: R): Promise<IReplyOf[R['type']]> {
    this.requests.push(message);
    const reply = this.replies[message.type]?.(message);
    if (reply instanceof Error) {
      throw reply;
    }
    if (reply !== undefined) {
      // like the real socket: replies also reach the message listeners
      this.emit({ ...(reply as object), id: 'rx' } as ServerMessage);
    }
    return reply as IReplyOf[R['type']];
  }

  // -- test side --
  emit(message: ServerMessage): void {
    for (const listener of [...this._messages]) {
      listener(message);
    }
  }
  setStatus(status: Partial<ISocketStatus>): void {
    this.status = { ...this.status, ...status };
    for (const listener of [...this._statuses]) {
      listener(this.status);
    }
  }
  connect(): void {
    this.isOpen = true;
    this.setStatus({ state: 'open' });
    this.emit({ type: 'hello', protocol: 1, version: '0.1.0' });
  }
}

function fakeApi(overrides: Partial<IProjectsApi> = {}): IProjectsApi {
  return {
    projects: vi.fn(async () => [project()]),
    cloudProjects: vi.fn(async () => []),
    createProject: vi.fn(async body => project({ name: body.name })),
    link: vi.fn(async id => project({ id })),
    unlink: vi.fn(async () => undefined),
    deleteProject: vi.fn(async () => undefined),
    sync: vi.fn(async id => job({ project_id: id })),
    dryRun: vi.fn(async id => ({
      project_id: id,
      steps: [],
      totals: {
        uploads: 0,
        downloads: 0,
        delete_local: 0,
        delete_remote: 0,
        moves: 0,
        conflicts: 0,
        upload_bytes: 0,
        download_bytes: 0
      },
      guard: null
    })),
    files: vi.fn(async () => [file('a.txt')]),
    conflicts: vi.fn(async () => []),
    resolveConflict: vi.fn(async id => conflict({ id, resolved: true })),
    jobs: vi.fn(async () => []),
    cancelJob: vi.fn(async () => undefined),
    ...overrides
  };
}

const flush = async () => {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
  }
};

let socket: FakeSocket;

beforeEach(() => {
  socket = new FakeSocket();
  socket.replies = {
    subscribe: () => ({ type: 'subscribed', projects: null }),
    list_projects: () => ({ type: 'projects', items: [project()] })
  };
});

afterEach(() => {
  vi.useRealTimers();
});

/** A started, connected controller whose cloud list failed (the cloud is unreachable). */
async function startedWithCloudDown() {
  const api = fakeApi({
    cloudProjects: vi.fn(async () => {
      throw new Error('Cannot reach http://cloud');
    })
  });
  const controller = new ProjectsController({ api, socket });
  controller.start();
  socket.connect();
  await flush();
  return { api, controller };
}

describe('ProjectsController', () => {
  it('loads over REST at start, then subscribes and refetches on every connect', async () => {
    const api = fakeApi();
    const controller = new ProjectsController({ api, socket });
    controller.start();
    expect(socket.started).toBe(1);
    await flush();
    expect(controller.state.projectsStatus).toBe('loaded');

    socket.connect();
    await flush();
    expect(socket.requests.map(r => r.type)).toEqual(['subscribe', 'list_projects']);
    expect(socket.requests[0]).toEqual({ type: 'subscribe', projects: null });
    expect(api.conflicts).toHaveBeenCalledTimes(1);
    expect(api.jobs).toHaveBeenCalledTimes(1);
    expect(api.cloudProjects).toHaveBeenCalledTimes(1);
    expect(controller.state.connection.state).toBe('online');

    // open a project: its files are fetched once, and again after a reconnect
    controller.expand('id-demo', true);
    await flush();
    expect(api.files).toHaveBeenCalledTimes(1);
    controller.expand('id-demo', false);
    controller.expand('id-demo', true);
    expect(api.files).toHaveBeenCalledTimes(1);

    socket.isOpen = false;
    socket.setStatus({ state: 'closed', attempt: 1, retryAt: 123, error: 'gone' });
    expect(controller.state.connection).toMatchObject({ state: 'offline', retryAt: 123 });
    socket.setStatus({ state: 'connecting' });
    expect(controller.state.connection.state).toBe('connecting');
    socket.connect();
    await flush();
    expect(socket.requests.map(r => r.type)).toEqual([
      'subscribe',
      'list_projects',
      'subscribe',
      'list_projects'
    ]);
    expect(api.files).toHaveBeenCalledTimes(2);
    expect(api.conflicts).toHaveBeenCalledTimes(2);
  });

  it('does not list cloud projects when told not to, and does once turned on', async () => {
    const api = fakeApi();
    const controller = new ProjectsController({ api, socket, listCloudProjects: false });
    controller.start();
    socket.connect();
    await flush();
    expect(api.cloudProjects).not.toHaveBeenCalled();
    controller.listCloudProjects = true;
    await flush();
    expect(api.cloudProjects).toHaveBeenCalledTimes(1);
  });

  it('reports a failing project list', async () => {
    const api = fakeApi({ projects: vi.fn(async () => Promise.reject(new Error('no db'))) });
    const controller = new ProjectsController({ api, socket });
    controller.start();
    await flush();
    expect(controller.state).toMatchObject({ projectsStatus: 'error', projectsError: 'no db' });
  });

  it('notifies of a new conflict pushed by the server, once', async () => {
    const onConflict = vi.fn();
    const controller = new ProjectsController({ api: fakeApi(), socket, onConflict });
    controller.start();
    socket.connect();
    await flush();
    socket.emit({ type: 'conflict', conflict: conflict() });
    socket.emit({ type: 'conflict', conflict: conflict() }); // the same again
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(onConflict.mock.calls[0][1]).toMatchObject({ name: 'demo' });
    // a resolution, or the reply to our own request, is no news
    socket.emit({ type: 'conflict', conflict: conflict({ resolved: true }) });
    socket.emit({ type: 'conflict', id: 'r9', conflict: conflict({ id: 7 }) });
    expect(onConflict).toHaveBeenCalledTimes(1);
  });

  it('says when edits made on both sides merged, with the project', async () => {
    const onFileMerged = vi.fn();
    const controller = new ProjectsController({ api: fakeApi(), socket, onFileMerged });
    controller.start();
    socket.connect();
    await flush();
    const before = controller.state;
    socket.emit({
      type: 'file_merged',
      project_id: 'id-demo',
      path: 'nb/analysis.ipynb',
      revision: 'r3',
      merged_with: 'bob'
    });
    expect(onFileMerged).toHaveBeenCalledTimes(1);
    expect(onFileMerged.mock.calls[0][0]).toMatchObject({ path: 'nb/analysis.ipynb' });
    expect(onFileMerged.mock.calls[0][1]).toMatchObject({ name: 'demo' });
    expect(controller.state.files).toBe(before.files); // the file_status after it tells
  });

  it('syncs and cancels over the socket when open, over REST otherwise', async () => {
    const api = fakeApi();
    const controller = new ProjectsController({ api, socket });
    controller.start();
    await flush();

    // socket down: REST, and the job lands in the state
    const viaRest = await controller.sync('id-demo');
    expect(api.sync).toHaveBeenCalledWith('id-demo', false, false);
    expect(controller.state.jobs[viaRest.id]).toBeDefined();
    await controller.cancel('id-demo');
    expect(api.cancelJob).toHaveBeenCalledWith(viaRest.id);

    socket.connect();
    await flush();
    socket.replies.sync = () => ({ type: 'job_progress', job: job({ id: 'ws-job', state: 'running' }) });
    socket.replies.cancel = () => ({ type: 'job_finished', job: job({ id: 'ws-job', state: 'cancelled' }) });
    const viaSocket = await controller.sync('id-demo');
    expect(viaSocket.id).toBe('ws-job');
    expect(controller.state.jobs['ws-job'].state).toBe('running');
    await controller.cancel('id-demo');
    expect(socket.requests.at(-1)).toEqual({ type: 'cancel', job_id: 'ws-job' });
    expect(controller.state.jobs['ws-job'].state).toBe('cancelled');
    await controller.cancel('id-demo'); // nothing running: nothing sent
    expect(socket.requests.filter(r => r.type === 'cancel')).toHaveLength(1);
    await controller.sync('id-demo', true);
    expect(socket.requests.at(-1)).toEqual({
      type: 'sync',
      project_id: 'id-demo',
      confirm_deletes: true
    });
    await controller.sync('id-demo', false, true);
    expect(socket.requests.at(-1)).toEqual({
      type: 'sync',
      project_id: 'id-demo',
      restore_deletes: true
    });
  });

  it('syncs all, collecting failures', async () => {
    const api = fakeApi({
      projects: vi.fn(async () => [project({ name: 'a' }), project({ name: 'b' })]),
      sync: vi.fn(async (id: string) => {
        if (id === 'id-b') {
          throw new Error('locked');
        }
        return job({ project_id: id });
      })
    });
    const controller = new ProjectsController({ api, socket });
    controller.start();
    await flush();
    const { jobs, failures } = await controller.syncAll();
    expect(jobs).toHaveLength(1);
    expect(failures).toEqual([{ project: expect.objectContaining({ name: 'b' }), error: 'locked' }]);
  });

  it('resolves a conflict and refetches the files of its project', async () => {
    vi.useFakeTimers();
    const api = fakeApi();
    const controller = new ProjectsController({ api, socket, refetchDelay: 100 });
    controller.start();
    socket.connect();
    await flush();
    controller.expand('id-demo', true);
    await flush();
    socket.emit({ type: 'conflict', conflict: conflict() });
    socket.replies.resolve_conflict = request => ({
      type: 'conflict',
      conflict: conflict({ resolved: true, id: (request as { conflict_id: number }).conflict_id })
    });
    const resolved = await controller.resolveConflict(1, 'local');
    expect(resolved.resolved).toBe(true);
    expect(socket.requests.at(-1)).toEqual({ type: 'resolve_conflict', conflict_id: 1, keep: 'local' });
    expect(controller.state.conflicts['1'].resolved).toBe(true);
    expect(api.files).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(100);
    await flush();
    expect(api.files).toHaveBeenCalledTimes(2);
  });

  it('passes a refused resolution on to the caller', async () => {
    const controller = new ProjectsController({ api: fakeApi(), socket });
    controller.start();
    socket.connect();
    await flush();
    socket.replies.resolve_conflict = () => new Error('conflict 1 is resolved');
    await expect(controller.resolveConflict(1, 'both')).rejects.toThrow('conflict 1 is resolved');
  });

  it('refetches an open project\'s files after a sync that moved files, debounced', async () => {
    vi.useFakeTimers();
    const api = fakeApi();
    const controller = new ProjectsController({ api, socket, refetchDelay: 100 });
    controller.start();
    socket.connect();
    await flush();
    controller.expand('id-demo', true);
    await flush();
    socket.emit({ type: 'job_finished', job: job({ state: 'done', files_total: 0 }) });
    vi.advanceTimersByTime(200);
    expect(api.files).toHaveBeenCalledTimes(1); // nothing moved
    socket.emit({ type: 'job_finished', job: job({ id: 'a', state: 'done', files_total: 2 }) });
    socket.emit({ type: 'job_finished', job: job({ id: 'b', state: 'done', files_total: 1 }) });
    vi.advanceTimersByTime(100);
    await flush();
    expect(api.files).toHaveBeenCalledTimes(2); // once for both
    socket.emit({
      type: 'job_finished',
      job: job({ id: 'c', project_id: 'id-closed', state: 'done', files_total: 3 })
    });
    vi.advanceTimersByTime(100);
    expect(api.files).toHaveBeenCalledTimes(2); // never opened: not fetched
  });

  it('refetches conflicts when a project reports fewer than it knows', async () => {
    const api = fakeApi();
    const controller = new ProjectsController({ api, socket });
    controller.start();
    socket.connect();
    await flush();
    socket.emit({ type: 'conflict', conflict: conflict() });
    const calls = (api.conflicts as ReturnType<typeof vi.fn>).mock.calls.length;
    socket.emit({ type: 'project_updated', project: project({ conflicts: 0 }) });
    await flush();
    expect(api.conflicts).toHaveBeenCalledTimes(calls + 1);
    expect(api.conflicts).toHaveBeenLastCalledWith('id-demo');
  });

  it('refreshes the cloud list when a project appears that was linked elsewhere', async () => {
    const api = fakeApi();
    const controller = new ProjectsController({ api, socket });
    controller.start();
    socket.connect();
    await flush();
    socket.emit({ type: 'project_updated', project: project({ name: 'new' }) });
    await flush();
    expect(api.cloudProjects).toHaveBeenCalledTimes(2);
  });

  it('creates, links and unlinks, opening what it linked', async () => {
    const api = fakeApi({ projects: vi.fn(async (): Promise<ILocalProject[]> => []) });
    const controller = new ProjectsController({ api, socket });
    controller.start();
    await flush();
    const created = await controller.createProject({ name: 'fresh', title: 'Fresh' });
    expect(api.createProject).toHaveBeenCalledWith({ name: 'fresh', title: 'Fresh' });
    expect(controller.state.projects[created.id]).toBeDefined();
    expect(controller.state.expanded[created.id]).toBe(true);
    await flush();
    expect(api.files).toHaveBeenCalledWith(created.id);

    await controller.link('id-cloud', 'elsewhere/x');
    expect(api.link).toHaveBeenCalledWith('id-cloud', 'elsewhere/x');
    expect(controller.state.projects['id-cloud']).toBeDefined();

    await controller.unlink(created.id);
    expect(controller.state.projects[created.id]).toBeUndefined();
  });

  it('leaves the state alone when an action fails', async () => {
    const api = fakeApi({
      createProject: vi.fn(async (): Promise<ILocalProject> => {
        throw new Error("you already have a project named 'x'");
      })
    });
    const controller = new ProjectsController({ api, socket });
    controller.start();
    await flush();
    const before = controller.state.projects;
    await expect(controller.createProject({ name: 'x' })).rejects.toThrow('already');
    expect(controller.state.projects).toBe(before);
  });

  it('records a failed file listing, and retries when opened again', async () => {
    let fail = true;
    const api = fakeApi({
      files: vi.fn(async () => {
        if (fail) {
          throw new Error('scan failed');
        }
        return [file('ok.txt')];
      })
    });
    const controller = new ProjectsController({ api, socket });
    controller.start();
    await flush();
    controller.expand('id-demo', true);
    await flush();
    expect(controller.state.files['id-demo']).toMatchObject({ status: 'error', error: 'scan failed' });
    fail = false;
    controller.expand('id-demo', false);
    controller.expand('id-demo', true);
    await flush();
    expect(controller.state.files['id-demo'].status).toBe('loaded');
  });

  it('stops listening when disposed', async () => {
    const controller = new ProjectsController({ api: fakeApi(), socket });
    controller.start();
    controller.dispose();
    socket.emit({ type: 'hello', protocol: 1, version: 'x' });
    expect(controller.state.connection.state).toBe('connecting');
  });

  it('hands a conflict without a known project to the callback too', async () => {
    const seen: [IConflict, ILocalProject | undefined][] = [];
    const controller = new ProjectsController({
      api: fakeApi(),
      socket,
      onConflict: (c, p) => seen.push([c, p])
    });
    controller.start();
    socket.emit({ type: 'conflict', conflict: conflict({ project_id: 'unknown' }) });
    expect(seen).toHaveLength(1);
    expect(seen[0][1]).toBeUndefined();
  });

  it('errors clear themselves: a list that failed is fetched again once the cloud answers', async () => {
    const { api, controller } = await startedWithCloudDown();
    expect(controller.state.cloud).toMatchObject({ status: 'error' });

    api.cloudProjects = vi.fn(async () => []);
    socket.emit({ type: 'project_updated', project: project({ status: 'offline' }) });
    await flush();
    expect(api.cloudProjects).not.toHaveBeenCalled(); // still offline: nothing to ask
    socket.emit({ type: 'project_updated', project: project({ status: 'idle' }) });
    await flush();
    expect(api.cloudProjects).toHaveBeenCalledTimes(1);
    expect(controller.state.cloud).toMatchObject({ status: 'loaded', error: null });
  });

  it('takes the cloud projects the server pushes, clearing an old error', async () => {
    const { controller } = await startedWithCloudDown();
    const made = cloudProject('made-in-lab-one');
    socket.emit({ type: 'cloud_projects', items: [made] });
    expect(controller.state.cloud).toEqual({ status: 'loaded', error: null, items: [made] });
  });

  it('whenFinished resolves once the job has finished', async () => {
    const controller = new ProjectsController({ api: fakeApi(), socket });
    socket.connect();
    await flush();
    let finished: string | null = null;
    socket.emit({ type: 'job_progress', job: job({ state: 'running' }) });
    void controller.whenFinished('job-1').then(j => (finished = j.state));
    await flush();
    expect(finished).toBeNull();
    socket.emit({ type: 'job_finished', job: job({ state: 'failed' }) });
    await flush();
    expect(finished).toBe('failed');
  });
});
