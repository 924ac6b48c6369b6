import {
  Button,
  caretDownIcon,
  caretRightIcon,
  deleteIcon,
  folderIcon,
  LabIcon,
  stopIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  conflictIcon,
  deletedIcon,
  failedIcon,
  ignoredIcon,
  pullIcon,
  pushIcon,
  syncedIcon,
  syncIcon,
  unlinkIcon
} from '../icons';
import {
  IBadge,
  IState,
  formatTime,
  offlineSentence,
  openConflicts,
  projectBadge
} from '../model';
import type { FileState, IConflict, ILocalProject, Keep } from '../types';
import type { IPanelActions } from './actions';
import { FileTree } from './FileTree';

export const FILE_STATE_ICON: Record<FileState, LabIcon> = {
  synced: syncedIcon,
  pending_push: pushIcon,
  pending_pull: pullIcon,
  conflict: conflictIcon,
  ignored: ignoredIcon,
  deleted_locally: deletedIcon,
  skipped: ignoredIcon,
  failed: failedIcon
};

export const FILE_STATE_LABEL: Record<FileState, string> = {
  synced: 'Synced',
  pending_push: 'Local change, waiting to be pushed',
  pending_pull: 'Cloud change, waiting to be pulled',
  conflict: 'Conflict: both sides changed',
  ignored: 'Ignored: not synced',
  deleted_locally: 'Deleted on this machine, still in the cloud',
  skipped: 'Skipped: stays on this machine, not synced',
  failed: 'Failed to sync; tried again automatically, or now with Sync'
};

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export interface IProjectItemProps {
  project: ILocalProject;
  state: IState;
  online: boolean;
  expanded: boolean;
  onToggle: (expanded: boolean) => void;
  onLoadFiles: () => void;
  actions: IPanelActions;
  showIgnored: boolean;
  pageSize: number;
  /** The panel's filter, when it matches files of this project ('' otherwise). */
  fileQuery: string;
}

/** One linked project: a row with its status, and when open its conflicts and files. */
export function ProjectItem(props: IProjectItemProps): JSX.Element {
  const { project, state, online, expanded, actions } = props;
  const badge = projectBadge(state, project.id) as IBadge;
  const job = badge.job;
  const running = job !== null;
  const bodyId = `jp-pfb-project-${project.id}`;
  const label = project.title && project.title !== project.name ? project.title : project.name;
  const [busy, setBusy] = React.useState(false);

  const act = (action: () => Promise<void>) => () => {
    setBusy(true);
    action().finally(() => setBusy(false));
  };
  const sync = act(() => actions.sync(project));
  const cancel = act(() => actions.cancel(project));
  const unlink = act(() => actions.unlink(project));

  return (
    <li
      className={`jp-pfb-project jp-pfb-mod-${badge.kind}${expanded ? ' jp-mod-expanded' : ''}`}
      data-project-id={project.id}
      data-project-name={project.name}
      aria-label={`Project ${project.name}`}
    >
      <div className="jp-pfb-projectRow">
        <button
          className="jp-pfb-toggle"
          aria-expanded={expanded}
          aria-controls={bodyId}
          title={[project.description || label, `Folder: ${project.local_path}`, badge.title]
            .filter(Boolean)
            .join('\n')}
          onClick={() => props.onToggle(!expanded)}
        >
          <LabIcon.resolveReact
            icon={expanded ? caretDownIcon : caretRightIcon}
            className="jp-pfb-caret"
            tag="span"
          />
          <span className="jp-pfb-projectName">{label}</span>
          {label !== project.name && (
            <span className="jp-pfb-projectSub">{project.name}</span>
          )}
        </button>
        {project.conflicts > 0 && (
          <span
            className="jp-pfb-badge jp-pfb-mod-conflict"
            title={`${plural(project.conflicts, 'conflict')} to resolve`}
          >
            <conflictIcon.react tag="span" className="jp-pfb-badgeIcon" />
            {project.conflicts}
          </span>
        )}
        <span
          className={`jp-pfb-badge jp-pfb-mod-${badge.kind}`}
          title={badge.title}
          data-status={badge.kind}
        >
          {badge.label}
        </span>
        <span className="jp-pfb-actions">
          {running ? (
            <ToolbarButtonComponent
              icon={stopIcon}
              tooltip={`Cancel the sync of ${project.name}`}
              enabled={online && !busy}
              onClick={cancel}
            />
          ) : (
            <ToolbarButtonComponent
              icon={syncIcon}
              tooltip={`Sync ${project.name} now`}
              enabled={online && !busy}
              onClick={sync}
            />
          )}
          <ToolbarButtonComponent
            icon={folderIcon}
            tooltip={`Open ${project.local_path} in the file browser`}
            onClick={() => actions.openFolder(project)}
          />
          <ToolbarButtonComponent
            icon={unlinkIcon}
            tooltip={`Unlink ${project.name} (stop syncing; files stay)`}
            enabled={online && !busy}
            onClick={unlink}
          />
        </span>
      </div>
      {(badge.kind === 'syncing' || badge.kind === 'queued') && (
        <ProgressBar value={badge.progress} label={`${project.name}: ${badge.title}`} />
      )}
      {project.error && (project.status === 'error' || project.status === 'paused' || project.status === 'offline') && (
        <div
          className={`jp-pfb-projectError jp-pfb-mod-${project.status}`}
          role={project.status === 'error' ? 'alert' : 'status'}
        >
          {project.status === 'offline' ? offlineSentence(project) : project.error}
          {project.status === 'paused' && !project.folder_missing && (
            <div className="jp-pfb-pausedActions">
              <Button
                small
                minimal
                disabled={!online || busy}
                title="See what would be deleted, then delete or restore"
                onClick={act(() => actions.confirmDeletes(project))}
              >
                Review the deletions…
              </Button>
            </div>
          )}
        </div>
      )}
      {expanded && (
        <div className="jp-pfb-projectBody" id={bodyId}>
          {project.description && (
            <div className="jp-pfb-description">{project.description}</div>
          )}
          <div className="jp-pfb-meta">
            <span title="The project folder, relative to the server's root">
              {project.local_path}
            </span>
            <span>
              {project.last_synced_at
                ? `synced ${formatTime(project.last_synced_at)}`
                : 'not synced yet'}
            </span>
          </div>
          <div className="jp-pfb-bodyActions" role="group" aria-label={`Actions on ${project.name}`}>
            {running ? (
              <Button small minimal disabled={!online || busy} onClick={cancel}>
                <stopIcon.react tag="span" className="jp-pfb-buttonIcon" />
                Cancel sync
              </Button>
            ) : (
              <Button small minimal disabled={!online || busy} onClick={sync}>
                <syncIcon.react tag="span" className="jp-pfb-buttonIcon" />
                Sync now
              </Button>
            )}
            <Button
              small
              minimal
              title={`Show ${project.local_path} in the file browser`}
              onClick={() => actions.openFolder(project)}
            >
              <folderIcon.react tag="span" className="jp-pfb-buttonIcon" />
              Folder
            </Button>
            <Button
              small
              minimal
              disabled={!online || busy}
              title="Stop syncing this project; its files stay"
              onClick={unlink}
            >
              <unlinkIcon.react tag="span" className="jp-pfb-buttonIcon" />
              Unlink
            </Button>
            <Button
              small
              minimal
              className="jp-pfb-deleteButton"
              disabled={!online || busy}
              title={`Delete ${project.name} from the cloud, for everyone (asks first; local files stay)`}
              onClick={act(() => actions.deleteProject(project))}
            >
              <deleteIcon.react tag="span" className="jp-pfb-buttonIcon" />
              Delete…
            </Button>
          </div>
          <ConflictList
            project={project}
            conflicts={openConflicts(state, project.id)}
            online={online}
            actions={actions}
          />
          <FileTree
            project={project}
            state={state}
            actions={actions}
            showIgnored={props.showIgnored}
            pageSize={props.pageSize}
            onRetry={props.onLoadFiles}
            query={props.fileQuery}
          />
        </div>
      )}
    </li>
  );
}

/** A thin progress bar; indeterminate while the size is unknown. */
export function ProgressBar(props: { value: number | null; label: string }): JSX.Element {
  const percent = props.value === null ? null : Math.round(props.value * 100);
  return (
    <div
      className={`jp-pfb-progress${percent === null ? ' jp-mod-indeterminate' : ''}`}
      role="progressbar"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent ?? undefined}
    >
      <div className="jp-pfb-progressFill" style={{ width: percent === null ? undefined : `${percent}%` }} />
    </div>
  );
}

interface IConflictListProps {
  project: ILocalProject;
  conflicts: IConflict[];
  online: boolean;
  actions: IPanelActions;
}

/** A project's open conflicts, each with keep mine / keep theirs / keep both. */
export function ConflictList(props: IConflictListProps): JSX.Element | null {
  const { project, conflicts } = props;
  if (conflicts.length === 0) {
    return null;
  }
  return (
    <section className="jp-pfb-conflicts" aria-label={`Conflicts in ${project.name}`}>
      <h4 className="jp-pfb-subHeader">
        <conflictIcon.react tag="span" className="jp-pfb-stateIcon jp-pfb-mod-conflict" />
        {plural(conflicts.length, 'conflict')}
      </h4>
      <ul className="jp-pfb-conflictList">
        {conflicts.map(conflict => (
          <ConflictItem key={conflict.id} {...props} conflict={conflict} />
        ))}
      </ul>
    </section>
  );
}

function ConflictItem(props: IConflictListProps & { conflict: IConflict }): JSX.Element {
  const { project, conflict, actions, online } = props;
  const [pending, setPending] = React.useState<Keep | null>(null);
  const resolve = (keep: Keep) => {
    setPending(keep);
    actions.resolve(conflict, keep).finally(() => setPending(null));
  };
  const open = (path: string) => (event: React.MouseEvent) => {
    event.preventDefault();
    actions.openFile(project, path);
  };
  const disabled = !online || pending !== null;
  // The copy arrived from another machine: "mine" and "theirs" are that machine's words.
  const elsewhere = conflict.made_here === false;
  const copyName = elsewhere ? 'the copy' : 'my version';
  return (
    <li className="jp-pfb-conflict" data-conflict-id={conflict.id} aria-label={`Conflict on ${conflict.path}`}>
      <div className="jp-pfb-conflictPaths">
        <div>
          <a
            className="jp-pfb-link"
            href={actions.fileUrl(project, conflict.path)}
            onClick={open(conflict.path)}
            title={`Open ${conflict.path}`}
          >
            {conflict.path}
          </a>
          <span className="jp-pfb-conflictSide">{elsewhere ? 'at the path' : 'theirs (from the cloud)'}</span>
        </div>
        <div>
          <a
            className="jp-pfb-link"
            href={actions.fileUrl(project, conflict.conflict_path)}
            onClick={open(conflict.conflict_path)}
            title={`Open ${conflict.conflict_path}`}
          >
            {conflict.conflict_path}
          </a>
          <span className="jp-pfb-conflictSide">
            {elsewhere ? 'the other edit (copied on another machine)' : 'mine'}
          </span>
        </div>
        <div className="jp-pfb-conflictTime">detected {formatTime(conflict.detected_at)}</div>
      </div>
      <div className="jp-pfb-conflictActions" role="group" aria-label={`Resolve the conflict on ${conflict.path}`}>
        <Button
          small
          minimal
          disabled={disabled}
          title={`Put ${copyName} at ${conflict.path} and drop the version there`}
          onClick={() => resolve('local')}
        >
          {pending === 'local' ? 'Keeping…' : elsewhere ? 'Keep the copy' : 'Keep mine'}
        </Button>
        <Button
          small
          minimal
          disabled={disabled}
          title={`Keep the version at ${conflict.path} and delete ${copyName}`}
          onClick={() => resolve('remote')}
        >
          {pending === 'remote' ? 'Keeping…' : elsewhere ? 'Keep the path' : 'Keep theirs'}
        </Button>
        <Button
          small
          minimal
          disabled={disabled}
          title={`Keep both: ${copyName} stays as ${conflict.conflict_path}`}
          onClick={() => resolve('both')}
        >
          {pending === 'both' ? 'Keeping…' : 'Keep both'}
        </Button>
      </div>
    </li>
  );
}
