import type { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  caretDownIcon,
  caretRightIcon,
  deleteIcon,
  folderIcon,
  LabIcon,
  stopIcon,
  ToolbarButtonComponent,
  undoIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { conflictIcon, historyIcon, syncIcon, unlinkIcon } from '../icons';
import { IState, openConflicts } from '../model';
import { IBadge, formatTime, offlineSentence, projectBadge } from '../status';
import type { ILocalProject } from '../types';
import type { IPanelActions } from './actions';
import { ConflictList } from './ConflictList';
import { FileTree } from './FileTree';

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
  trans: TranslationBundle;
}

/** One linked project: a row with its status, and when open its conflicts and files. */
export function ProjectItem(props: IProjectItemProps): JSX.Element {
  const { project, state, online, expanded, actions, trans } = props;
  const badge = projectBadge(state, project.id, trans) as IBadge;
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
      aria-label={trans.__('Project %1', project.name)}
    >
      <div className="jp-pfb-projectRow">
        <button
          className="jp-pfb-toggle"
          aria-expanded={expanded}
          aria-controls={bodyId}
          title={[project.description || label, trans.__('Folder: %1', project.local_path), badge.title]
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
            title={trans._n('%1 conflict to resolve', '%1 conflicts to resolve', project.conflicts)}
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
              tooltip={trans.__('Cancel the sync of %1', project.name)}
              enabled={online && !busy}
              onClick={cancel}
            />
          ) : (
            <ToolbarButtonComponent
              icon={syncIcon}
              tooltip={trans.__('Sync %1 now', project.name)}
              enabled={online && !busy}
              onClick={sync}
            />
          )}
          <ToolbarButtonComponent
            icon={folderIcon}
            tooltip={trans.__('Open %1 in the file browser', project.local_path)}
            onClick={() => actions.openFolder(project)}
          />
          <ToolbarButtonComponent
            icon={unlinkIcon}
            tooltip={trans.__('Unlink %1 (stop syncing; files stay)', project.name)}
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
          {project.status === 'offline' ? offlineSentence(project, trans) : project.error}
          {project.status === 'paused' && !project.folder_missing && (
            <div className="jp-pfb-pausedActions">
              <Button
                small
                minimal
                disabled={!online || busy}
                title={trans.__('See what would be deleted, then delete or restore')}
                onClick={act(() => actions.confirmDeletes(project))}
              >
                {trans.__('Review the deletions…')}
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
            <span title={trans.__("The project folder, relative to the server's root")}>
              {project.local_path}
            </span>
            <span>
              {project.last_synced_at
                ? trans.__('synced %1', formatTime(project.last_synced_at))
                : trans.__('not synced yet')}
            </span>
          </div>
          <div
            className="jp-pfb-bodyActions"
            role="group"
            aria-label={trans.__('Actions on %1', project.name)}
          >
            {running ? (
              <Button small minimal disabled={!online || busy} onClick={cancel}>
                <stopIcon.react tag="span" className="jp-pfb-buttonIcon" />
                {trans.__('Cancel sync')}
              </Button>
            ) : (
              <Button small minimal disabled={!online || busy} onClick={sync}>
                <syncIcon.react tag="span" className="jp-pfb-buttonIcon" />
                {trans.__('Sync now')}
              </Button>
            )}
            <Button
              small
              minimal
              title={trans.__('Show %1 in the file browser', project.local_path)}
              onClick={() => actions.openFolder(project)}
            >
              <folderIcon.react tag="span" className="jp-pfb-buttonIcon" />
              {trans.__('Folder')}
            </Button>
            <Button
              small
              minimal
              disabled={!online || busy}
              title={trans.__('Stop syncing this project; its files stay')}
              onClick={unlink}
            >
              <unlinkIcon.react tag="span" className="jp-pfb-buttonIcon" />
              {trans.__('Unlink')}
            </Button>
            <Button
              small
              minimal
              className="jp-pfb-deleteButton"
              disabled={!online || busy}
              title={trans.__(
                'Delete %1 from the cloud, for everyone (asks first; local files stay)',
                project.name
              )}
              onClick={act(() => actions.deleteProject(project))}
            >
              <deleteIcon.react tag="span" className="jp-pfb-buttonIcon" />
              {trans.__('Delete…')}
            </Button>
          </div>
          <div
            className="jp-pfb-bodyActions jp-pfb-projectHistory"
            role="group"
            aria-label={trans.__('History of %1', project.name)}
          >
            <Button
              small
              minimal
              className="jp-pfb-deletedFilesButton"
              title={trans.__('Files deleted from %1, to restore', project.name)}
              onClick={() => actions.openDeleted(project)}
            >
              <undoIcon.react tag="span" className="jp-pfb-buttonIcon" />
              {trans.__('Deleted files…')}
            </Button>
            <Button
              small
              minimal
              className="jp-pfb-checkpointsButton"
              title={trans.__('Named states of every file of %1: create, restore', project.name)}
              onClick={() => actions.openCheckpoints(project)}
            >
              <historyIcon.react tag="span" className="jp-pfb-buttonIcon" />
              {trans.__('Checkpoints…')}
            </Button>
          </div>
          <ConflictList
            project={project}
            conflicts={openConflicts(state, project.id)}
            online={online}
            actions={actions}
            trans={trans}
          />
          <FileTree
            project={project}
            state={state}
            actions={actions}
            showIgnored={props.showIgnored}
            pageSize={props.pageSize}
            onRetry={props.onLoadFiles}
            query={props.fileQuery}
            trans={trans}
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
