/**
 * Ties the state store to the server: websocket messages and connection changes go into
 * the store; on every (re)connect the client subscribes and refetches what it shows (the
 * project list, conflicts, jobs, the files of open projects) — once per connect, never on
 * a timer. User actions go out as websocket requests or REST calls.
 *
 * Framework-free: the REST API and the socket are interfaces, so tests drive it with fakes.
 *
 * Over 400 lines on purpose: one class owns the order of things on a (re)connect and the
 * requests that race it; split, the rules about what is refetched when would be spread
 * over modules that share its private state.
 */

import { Action, IState, Store, activeJob, openConflicts } from './model';
import type {
  ClientRequest,
  ICloudProject,
  IConflict,
  IDeletesAppliedMessage,
  IFileMergedMessage,
  IFileEntry,
  IJob,
  ILocalProject,
  ISyncPlan,
  IReplyOf,
  Keep,
  ServerMessage
} from './types';
import type { ISocketStatus } from './ws';

/** The REST calls the controller makes (`ProjectsApi` implements them). */
export interface IProjectsApi {
  projects(): Promise<ILocalProject[]>;
  cloudProjects(): Promise<ICloudProject[]>;
  createProject(body: {
    name: string;
    title?: string;
    description?: string;
    adopt?: boolean;
  }): Promise<ILocalProject>;
  deleteProject(projectId: string): Promise<void>;
  link(projectId: string, localPath?: string): Promise<ILocalProject>;
  unlink(projectId: string): Promise<void>;
  sync(projectId: string, confirmDeletes?: boolean, restoreDeletes?: boolean): Promise<IJob>;
  dryRun(projectId: string): Promise<ISyncPlan>;
  files(projectId: string): Promise<IFileEntry[]>;
  conflicts(projectId?: string): Promise<IConflict[]>;
  resolveConflict(conflictId: number, keep: Keep): Promise<IConflict>;
  jobs(): Promise<IJob[]>;
  cancelJob(jobId: string): Promise<void>;
}

/** The socket the controller uses (`ProjectSocket` implements it). */
export interface ISocket {
  readonly isOpen: boolean;
  readonly status: ISocketStatus;
  start(): void;
  stop(): void;
  reconnectNow(): void;
  onMessage(listener: (message: ServerMessage) => void): () => void;
  onStatus(listener: (status: ISocketStatus) => void): () => void;
  request<R extends ClientRequest>(message: R): Promise<IReplyOf[R['type']]>;
}

export interface IControllerOptions {
  api: IProjectsApi;
  socket: ISocket;
  store?: Store;
  /** A new conflict was detected (not one already known, not a reply of ours). */
  onConflict?: (conflict: IConflict, project: ILocalProject | undefined) => void;
  /** Deletes confirmed on another machine were applied here without asking. */
  onDeletesApplied?: (message: IDeletesAppliedMessage) => void;
  /** Edits made on both sides of a file merged cleanly (say so). */
  onFileMerged?: (message: IFileMergedMessage, project: ILocalProject | undefined) => void;
  /** Whether cloud projects not linked here are listed (fetched on connect). */
  listCloudProjects?: boolean;
  /** Debounce of the files refetch after a sync finished, ms. */
  refetchDelay?: number;
  errorMessage?: (error: unknown) => string;
}

/** Whether a project's update says the cloud answered again after failing: it was
 * offline or failing and now synced. */
export function cloudAnswered(
  before: Pick<ILocalProject, 'status' | 'last_synced_at'>,
  after: Pick<ILocalProject, 'status' | 'last_synced_at'>
): boolean {
  const failing = (p: Pick<ILocalProject, 'status'>) => p.status === 'offline' || p.status === 'error';
  return (
    after.status === 'idle' &&
    (failing(before) || (after.last_synced_at !== null && after.last_synced_at !== before.last_synced_at))
  );
}

export class ProjectsController {
  constructor(options: IControllerOptions) {
    this.api = options.api;
    this.socket = options.socket;
    this.store = options.store ?? new Store();
    this._onConflict = options.onConflict;
    this._onDeletesApplied = options.onDeletesApplied;
    this._onFileMerged = options.onFileMerged;
    this._listCloud = options.listCloudProjects ?? true;
    this._refetchDelay = options.refetchDelay ?? 300;
    this._errorMessage =
      options.errorMessage ?? ((error: unknown) => (error instanceof Error ? error.message : String(error)));
    this._disposers.push(
      this.socket.onMessage(message => this._onMessage(message)),
      this.socket.onStatus(status => this._onStatus(status))
    );
  }

  readonly api: IProjectsApi;
  readonly socket: ISocket;
  readonly store: Store;

  get state(): IState {
    return this.store.state;
  }

  /** Connect; the project list comes over REST at once and over the socket once it is up. */
  start(): void {
    void this.loadProjects();
    this.socket.start();
  }

  dispose(): void {
    for (const dispose of this._disposers.splice(0)) {
      dispose();
    }
    for (const timer of this._refetchTimers.values()) {
      clearTimeout(timer);
    }
    this._refetchTimers.clear();
    this.socket.stop();
  }

  /** Whether the cloud projects not linked here are listed. */
  get listCloudProjects(): boolean {
    return this._listCloud;
  }

  set listCloudProjects(value: boolean) {
    if (value === this._listCloud) {
      return;
    }
    this._listCloud = value;
    if (value) {
      void this.loadCloudProjects();
    }
  }

  // -- loading ---------------------------------------------------------------------------

  /** The linked projects over REST (used before the socket is up). */
  async loadProjects(): Promise<void> {
    if (this.state.projectsStatus !== 'loaded') {
      this._dispatch({ type: 'projects/loading' });
    }
    try {
      const items = await this.api.projects();
      if (!this.socket.isOpen || this.state.projectsStatus !== 'loaded') {
        this._dispatch({ type: 'projects/loaded', items });
      }
    } catch (error) {
      if (this.state.projectsStatus !== 'loaded') {
        this._dispatch({ type: 'projects/failed', error: this._errorMessage(error) });
      }
    }
  }

  async loadCloudProjects(): Promise<void> {
    this._dispatch({ type: 'cloud/loading' });
    try {
      this._dispatch({ type: 'cloud/loaded', items: await this.api.cloudProjects() });
    } catch (error) {
      this._dispatch({ type: 'cloud/failed', error: this._errorMessage(error) });
    }
  }

  async loadFiles(projectId: string): Promise<void> {
    this._dispatch({ type: 'files/loading', projectId });
    try {
      const items = await this.api.files(projectId);
      this._dispatch({ type: 'files/loaded', projectId, items });
    } catch (error) {
      this._dispatch({ type: 'files/failed', projectId, error: this._errorMessage(error) });
    }
  }

  async loadConflicts(projectId?: string): Promise<void> {
    try {
      const items = await this.api.conflicts(projectId);
      this._dispatch({ type: 'conflicts/loaded', items, projectId });
    } catch (error) {
      console.warn('project-filebrowser: cannot list conflicts', error);
    }
  }

  async loadJobs(): Promise<void> {
    try {
      this._dispatch({ type: 'jobs/loaded', items: await this.api.jobs() });
    } catch (error) {
      console.warn('project-filebrowser: cannot list jobs', error);
    }
  }

  /** Open or close a project in the panel; opening fetches its files the first time. */
  expand(projectId: string, expanded: boolean): void {
    this._dispatch({ type: 'expand', projectId, expanded });
    const files = this.state.files[projectId];
    if (expanded && (files === undefined || files.status === 'error')) {
      void this.loadFiles(projectId);
    }
  }

  reconnect(): void {
    this.socket.reconnectNow();
  }

  // -- actions (they throw; the caller tells the user) -------------------------------------

  async createProject(body: {
    name: string;
    title?: string;
    description?: string;
    adopt?: boolean;
  }): Promise<ILocalProject> {
    const project = await this.api.createProject(body);
    this._linked(project);
    return project;
  }

  async link(projectId: string, localPath?: string): Promise<ILocalProject> {
    const project = await this.api.link(projectId, localPath);
    this._linked(project);
    return project;
  }

  /** Delete a project from the cloud (for everyone); it is unlinked here too. */
  async deleteProject(projectId: string): Promise<void> {
    await this.api.deleteProject(projectId);
    this._dispatch({ type: 'project/unlinked', projectId });
    this._dispatch({
      type: 'cloud/loaded',
      items: this.state.cloud.items.filter(project => project.id !== projectId)
    });
    if (this._listCloud) {
      void this.loadCloudProjects();
    }
  }

  async unlink(projectId: string): Promise<void> {
    await this.api.unlink(projectId);
    this._dispatch({ type: 'project/unlinked', projectId });
    if (this._listCloud) {
      void this.loadCloudProjects();
    }
  }

  /** Sync a project now (`confirmDeletes`: let a paused mass deletion go ahead;
   * `restoreDeletes`: download the files deleted here again instead); resolves with its
   * job (queued or running). */
  async sync(projectId: string, confirmDeletes = false, restoreDeletes = false): Promise<IJob> {
    if (this.socket.isOpen) {
      const reply = await this.socket.request({
        type: 'sync',
        project_id: projectId,
        ...(confirmDeletes ? { confirm_deletes: true } : {}),
        ...(restoreDeletes ? { restore_deletes: true } : {})
      });
      return reply.job;
    }
    const job = await this.api.sync(projectId, confirmDeletes, restoreDeletes);
    this._dispatch({ type: 'message', message: { type: 'job_progress', job } });
    return job;
  }

  /** What a sync of a project would do now (a dry run: nothing changes). */
  dryRun(projectId: string): Promise<ISyncPlan> {
    return this.api.dryRun(projectId);
  }

  /** Resolves with a job once it has finished (done, failed or cancelled). */
  whenFinished(jobId: string): Promise<IJob> {
    return new Promise(resolve => {
      const check = (state: IState): boolean => {
        const job = state.jobs[jobId];
        if (job !== undefined && job.state !== 'queued' && job.state !== 'running') {
          resolve(job);
          return true;
        }
        return false;
      };
      if (!check(this.state)) {
        const stop = this.store.subscribe(state => {
          if (check(state)) {
            stop();
          }
        });
      }
    });
  }

  /** Sync every linked project; resolves with the jobs and the failures. */
  async syncAll(): Promise<{ jobs: IJob[]; failures: { project: ILocalProject; error: string }[] }> {
    const projects = Object.values(this.state.projects);
    const outcomes = await Promise.allSettled(projects.map(p => this.sync(p.id)));
    const jobs: IJob[] = [];
    const failures: { project: ILocalProject; error: string }[] = [];
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') {
        jobs.push(outcome.value);
      } else {
        failures.push({ project: projects[index], error: this._errorMessage(outcome.reason) });
      }
    });
    return { jobs, failures };
  }

  /** Cancel a project's running or queued job. */
  async cancel(projectId: string): Promise<void> {
    const job = activeJob(this.state, projectId);
    if (job === null) {
      return;
    }
    if (this.socket.isOpen) {
      await this.socket.request({ type: 'cancel', job_id: job.id });
      return;
    }
    await this.api.cancelJob(job.id);
  }

  async resolveConflict(conflictId: number, keep: Keep): Promise<IConflict> {
    let conflict: IConflict;
    if (this.socket.isOpen) {
      conflict = (
        await this.socket.request({
          type: 'resolve_conflict',
          conflict_id: conflictId,
          keep
        })
      ).conflict;
    } else {
      conflict = await this.api.resolveConflict(conflictId, keep);
      this._dispatch({ type: 'message', message: { type: 'conflict', conflict } });
    }
    this._scheduleFilesRefetch(conflict.project_id);
    return conflict;
  }

  // -- internals ---------------------------------------------------------------------------

  private _dispatch(action: Action): void {
    this.store.dispatch(action);
  }

  private _linked(project: ILocalProject): void {
    this._dispatch({ type: 'project/linked', project });
    this.expand(project.id, true);
    if (this._listCloud) {
      void this.loadCloudProjects();
    }
  }

  private _onStatus(status: ISocketStatus): void {
    if (status.state === 'connecting') {
      this._dispatch({ type: 'connecting', attempt: status.attempt });
    } else if (status.state === 'closed') {
      this._dispatch({
        type: 'disconnected',
        attempt: status.attempt,
        retryAt: status.retryAt,
        error: status.error
      });
    }
    // 'open' is marked by the hello message itself.
  }

  private _onMessage(message: ServerMessage): void {
    const before = this.state;
    this._dispatch({ type: 'message', message });
    switch (message.type) {
      case 'hello':
        void this._onConnected();
        break;
      case 'conflict': {
        const known = before.conflicts[String(message.conflict.id)];
        const fresh = !message.conflict.resolved && (known === undefined || known.resolved);
        if (fresh && message.id === undefined) {
          this._onConflict?.(message.conflict, this.state.projects[message.conflict.project_id]);
        }
        break;
      }
      case 'project_updated': {
        const { project } = message;
        const previous = before.projects[project.id];
        if (previous === undefined && this._listCloud && this.state.cloud.status !== 'idle') {
          void this.loadCloudProjects(); // linked elsewhere (another tab, the CLI)
        }
        if (project.conflicts < openConflicts(this.state, project.id).length) {
          void this.loadConflicts(project.id); // resolved elsewhere
        }
        if (previous !== undefined && cloudAnswered(previous, project)) {
          this._retryFailedLoads(project.id); // errors clear themselves when the cause does
        }
        break;
      }
      case 'deletes_applied':
        this._onDeletesApplied?.(message);
        break;
      case 'file_merged':
        this._onFileMerged?.(message, this.state.projects[message.project_id]);
        break;
      case 'job_finished': {
        const { job } = message;
        if (job.files_total > 0 && this.state.files[job.project_id] !== undefined) {
          this._scheduleFilesRefetch(job.project_id); // sizes and states of what moved
        }
        break;
      }
      default:
        break;
    }
  }

  /** After every (re)connect: subscribe to everything, then refetch what is shown. */
  private async _onConnected(): Promise<void> {
    try {
      await this.socket.request({ type: 'subscribe', projects: null });
      const reply = await this.socket.request({ type: 'list_projects' });
      // The reply comes on the same channel as the events, so it is never older than them.
      this._dispatch({ type: 'projects/loaded', items: reply.items });
    } catch (error) {
      if (this.socket.isOpen) {
        this._dispatch({ type: 'projects/failed', error: this._errorMessage(error) });
      }
      return; // a dropped connection reconnects and comes back here
    }
    const loads: Promise<void>[] = [this.loadConflicts(), this.loadJobs()];
    if (this._listCloud) {
      loads.push(this.loadCloudProjects());
    }
    for (const projectId of Object.keys(this.state.files)) {
      loads.push(this.loadFiles(projectId));
    }
    await Promise.all(loads);
  }

  /** Fetch again what failed to load, once the cloud answered again. */
  private _retryFailedLoads(projectId: string): void {
    if (this._listCloud && this.state.cloud.status === 'error') {
      void this.loadCloudProjects();
    }
    if (this.state.files[projectId]?.status === 'error') {
      void this.loadFiles(projectId);
    }
  }

  private _scheduleFilesRefetch(projectId: string): void {
    if (this.state.files[projectId] === undefined) {
      return;
    }
    const previous = this._refetchTimers.get(projectId);
    if (previous !== undefined) {
      clearTimeout(previous);
    }
    this._refetchTimers.set(
      projectId,
      setTimeout(() => {
        this._refetchTimers.delete(projectId);
        if (this.state.projects[projectId] !== undefined) {
          void this.loadFiles(projectId);
        }
      }, this._refetchDelay)
    );
  }

  private _onConflict?: (conflict: IConflict, project: ILocalProject | undefined) => void;
  private _onDeletesApplied?: (message: IDeletesAppliedMessage) => void;
  private _onFileMerged?: (
    message: IFileMergedMessage,
    project: ILocalProject | undefined
  ) => void;
  private _listCloud: boolean;
  private _refetchDelay: number;
  private _errorMessage: (error: unknown) => string;
  private _disposers: (() => void)[] = [];
  private _refetchTimers = new Map<string, ReturnType<typeof setTimeout>>();
}
