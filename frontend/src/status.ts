/**
 * What the sidebar says about the state: the status badges of projects, the status bar's
 * summary, and the formatting of delays, sizes and times. Pure functions of the state
 * (`model.ts`), every sentence translated through the bundle they are given.
 */

import type { TranslationBundle } from '@jupyterlab/translation';

import { IState, activeJob, isActive, jobProgress } from './model';
import type { IJob, ILocalProject } from './types';

export type BadgeKind =
  | 'synced'
  | 'syncing'
  | 'queued'
  | 'pending'
  | 'paused'
  | 'offline'
  | 'error';

export interface IBadge {
  kind: BadgeKind;
  /** Short text of the badge. */
  label: string;
  /** A sentence for the tooltip. */
  title: string;
  /** Progress in [0, 1] of a running job; null when not syncing or unknown. */
  progress: number | null;
  /** The running or queued job, if any. */
  job: IJob | null;
}

/** What a project's status badge says. */
export function projectBadge(
  state: IState,
  projectId: string,
  trans: TranslationBundle
): IBadge | null {
  const project = state.projects[projectId];
  if (project === undefined) {
    return null;
  }
  const job = activeJob(state, projectId);
  if (state.connection.state !== 'online' && state.connection.everConnected) {
    return {
      kind: 'offline',
      label: trans.__('offline'),
      title: trans.__('Not connected to the Jupyter server; the last known state is shown.'),
      progress: null,
      job: null
    };
  }
  if (project.status === 'offline') {
    // A sync that runs meanwhile is only trying the cloud again: offline says more.
    return {
      kind: 'offline',
      label: offlineLabel(project.pending, trans),
      title: offlineSentence(project, trans),
      progress: null,
      job
    };
  }
  if (project.status === 'error') {
    return {
      kind: 'error',
      label: trans.__('error'),
      title: project.error
        ? trans.__('Sync failed: %1', project.error)
        : trans.__('The last sync failed.'),
      progress: null,
      job
    };
  }
  if (job?.state === 'running' || project.status === 'syncing') {
    const progress = job ? jobProgress(job) : null;
    return {
      kind: 'syncing',
      label:
        progress === null
          ? trans.__('syncing')
          : trans.__('syncing %1%', Math.round(progress * 100)),
      title:
        job && job.files_total > 0
          ? trans.__('Syncing (%1 of %2 files)…', job.files_done, job.files_total)
          : trans.__('Syncing…'),
      progress,
      job
    };
  }
  if (job?.state === 'queued') {
    return {
      kind: 'queued',
      label: trans.__('queued'),
      title: trans.__('A sync is queued.'),
      progress: null,
      job
    };
  }
  if (project.status === 'paused') {
    return {
      kind: 'paused',
      label: trans.__('paused'),
      title: project.error ? trans.__('Paused: %1', project.error) : trans.__('Syncing is paused.'),
      progress: null,
      job
    };
  }
  if (project.pending > 0) {
    return {
      kind: 'pending',
      label: trans.__('%1 pending', project.pending),
      title: trans._n(
        '%1 change waiting to sync.',
        '%1 changes waiting to sync.',
        project.pending
      ),
      progress: null,
      job
    };
  }
  return {
    kind: 'synced',
    label: trans.__('synced'),
    title: project.last_synced_at
      ? trans.__('In sync; last synced %1.', formatTime(project.last_synced_at))
      : trans.__('In sync.'),
    progress: null,
    job
  };
}

/** "offline", or "offline — 3 changes waiting". */
export function offlineLabel(pending: number, trans: TranslationBundle): string {
  return pending > 0
    ? trans._n('offline \u2014 %1 change waiting', 'offline \u2014 %1 changes waiting', pending)
    : trans.__('offline');
}

/** Why a project does not sync while its cloud is unreachable, and what happens next. */
export function offlineSentence(
  project: Pick<ILocalProject, 'pending' | 'cloud_url'>,
  trans: TranslationBundle
): string {
  const n = project.pending;
  const waiting =
    n > 0
      ? trans._n(
          '%1 change will sync when it is back',
          '%1 changes will sync when it is back',
          n
        )
      : trans.__('changes sync when it is back');
  return project.cloud_url
    ? trans.__('The cloud at %1 cannot be reached; %2.', project.cloud_url, waiting)
    : trans.__('The cloud cannot be reached; %1.', waiting);
}

export type OverallKind =
  | 'connecting'
  | 'offline'
  | 'error'
  | 'syncing'
  | 'conflicts'
  | 'paused'
  | 'pending'
  | 'synced'
  | 'empty';

export interface IOverall {
  kind: OverallKind;
  /** Short text for the status bar. */
  label: string;
  /** A sentence for its tooltip. */
  title: string;
  /** Progress in [0, 1] over every running job, or null. */
  progress: number | null;
}

/** The state of everything at once, for the status bar. */
export function overallStatus(state: IState, trans: TranslationBundle): IOverall {
  const { connection } = state;
  if (connection.state === 'offline') {
    const retry =
      connection.retryAt !== null
        ? ' ' + trans.__('Reconnecting %1.', formatDelay(connection.retryAt - Date.now(), trans))
        : '';
    const notConnected = connection.error
      ? trans.__('Not connected to the Jupyter server (%1).', connection.error)
      : trans.__('Not connected to the Jupyter server.');
    return {
      kind: 'offline',
      label: trans.__('Offline'),
      title: `${notConnected}${retry}`,
      progress: null
    };
  }
  if (connection.state === 'connecting') {
    return {
      kind: 'connecting',
      label: trans.__('Connecting…'),
      title: trans.__('Connecting to the Jupyter server…'),
      progress: null
    };
  }
  const projects = Object.values(state.projects);
  if (projects.length === 0) {
    if (state.cloud.status === 'error' && state.cloud.error) {
      // e.g. a wrong token: say why, not "No projects"
      return {
        kind: 'error',
        label: trans.__('Cloud: %1', state.cloud.error.replace(/\.$/, '')),
        title: trans.__('The cloud cannot be used: %1', state.cloud.error),
        progress: null
      };
    }
    return {
      kind: 'empty',
      label: trans.__('No projects'),
      title: trans.__('No linked projects.'),
      progress: null
    };
  }
  const failing = projects.filter(p => p.status === 'error');
  if (failing.length > 0) {
    return {
      kind: 'error',
      label: trans.__('Sync error'),
      title: failing
        .map(p => `${p.name}: ${p.error ?? trans.__('sync failed')}`)
        .join('\n'),
      progress: null
    };
  }
  // Jobs of projects whose cloud is unreachable only try it again: they say "offline".
  const active = Object.values(state.jobs).filter(
    job =>
      isActive(job) &&
      job.project_id in state.projects &&
      state.projects[job.project_id].status !== 'offline'
  );
  if (active.length > 0 || projects.some(p => p.status === 'syncing')) {
    const running = active.filter(job => job.state === 'running');
    const total = running.reduce(
      (sum, job) => ({
        files_done: sum.files_done + job.files_done,
        files_total: sum.files_total + job.files_total,
        bytes_done: sum.bytes_done + job.bytes_done,
        bytes_total: sum.bytes_total + job.bytes_total
      }),
      { files_done: 0, files_total: 0, bytes_done: 0, bytes_total: 0 }
    );
    const progress = running.length > 0 ? jobProgress(total) : null;
    const names = new Set(active.map(job => state.projects[job.project_id]?.name ?? job.project_id));
    return {
      kind: 'syncing',
      label:
        total.files_total > 0
          ? trans.__('Syncing %1/%2', total.files_done, total.files_total)
          : trans.__('Syncing…'),
      title:
        names.size > 0
          ? trans.__('Syncing %1.', [...names].join(', '))
          : trans._n('Syncing %1 project.', 'Syncing %1 projects.', projects.length),
      progress
    };
  }
  const conflicts = projects.reduce((sum, p) => sum + p.conflicts, 0);
  if (conflicts > 0) {
    return {
      kind: 'conflicts',
      label: trans._n('%1 conflict', '%1 conflicts', conflicts),
      title: trans._n(
        '%1 conflict to resolve in the Projects panel.',
        '%1 conflicts to resolve in the Projects panel.',
        conflicts
      ),
      progress: null
    };
  }
  const paused = projects.filter(p => p.status === 'paused');
  if (paused.length > 0) {
    return {
      kind: 'paused',
      label: trans.__('Paused'),
      title: paused.map(p => `${p.name}: ${p.error ?? trans.__('paused')}`).join('\n'),
      progress: null
    };
  }
  const offline = projects.filter(p => p.status === 'offline');
  if (offline.length > 0) {
    const waiting = offline.reduce((sum, p) => sum + p.pending, 0);
    return {
      kind: 'offline',
      label: trans.__('Cloud %1', offlineLabel(waiting, trans)),
      title: offlineSentence({ pending: waiting, cloud_url: offline[0].cloud_url }, trans),
      progress: null
    };
  }
  const pending = projects.reduce((sum, p) => sum + p.pending, 0);
  if (pending > 0) {
    return {
      kind: 'pending',
      label: trans.__('%1 pending', pending),
      title: trans._n('%1 change waiting to sync.', '%1 changes waiting to sync.', pending),
      progress: null
    };
  }
  return {
    kind: 'synced',
    label: trans.__('Synced'),
    title: trans._n('%1 project in sync.', '%1 projects in sync.', projects.length),
    progress: null
  };
}

// -- formatting ----------------------------------------------------------------------------

/** "in 4 s", "in 2 min", "now". */
export function formatDelay(ms: number, trans: TranslationBundle): string {
  if (ms < 1000) {
    return trans.__('now');
  }
  const seconds = Math.ceil(ms / 1000);
  return seconds < 60
    ? trans.__('in %1\u00a0s', seconds)
    : trans.__('in %1\u00a0min', Math.ceil(seconds / 60));
}

/** A byte count for people: "0 B", "1.5 KB", "12 MB". */
export function formatBytes(bytes: number | null, trans: TranslationBundle): string {
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) {
    return '';
  }
  const units = [trans.__('B'), trans.__('KB'), trans.__('MB'), trans.__('GB'), trans.__('TB')];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** A server timestamp (ISO 8601, UTC without zone) as local date and time. */
export function formatTime(iso: string): string {
  const hasZone = /[zZ]|[+-]\d\d:?\d\d$/.test(iso);
  const date = new Date(hasZone ? iso : `${iso}Z`);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
