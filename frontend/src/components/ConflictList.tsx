import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { conflictIcon } from '../icons';
import { formatTime } from '../status';
import { conflictWhy } from '../merges';
import type { IConflict, ILocalProject, Keep } from '../types';
import type { IPanelActions } from './actions';

export interface IConflictListProps {
  project: ILocalProject;
  conflicts: IConflict[];
  online: boolean;
  actions: IPanelActions;
  trans: TranslationBundle;
}

/** A project's open conflicts, each with keep mine / keep theirs / keep both. */
export function ConflictList(props: IConflictListProps): JSX.Element | null {
  const { project, conflicts, trans } = props;
  if (conflicts.length === 0) {
    return null;
  }
  return (
    <section className="jp-pfb-conflicts" aria-label={trans.__('Conflicts in %1', project.name)}>
      <h4 className="jp-pfb-subHeader">
        <conflictIcon.react tag="span" className="jp-pfb-stateIcon jp-pfb-mod-conflict" />
        {trans._n('%1 conflict', '%1 conflicts', conflicts.length)}
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
  const { project, conflict, actions, online, trans } = props;
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
  return (
    <li
      className="jp-pfb-conflict"
      data-conflict-id={conflict.id}
      aria-label={trans.__('Conflict on %1', conflict.path)}
    >
      <div className="jp-pfb-conflictPaths">
        <div>
          <a
            className="jp-pfb-link"
            href={actions.fileUrl(project, conflict.path)}
            onClick={open(conflict.path)}
            title={trans.__('Open %1', conflict.path)}
          >
            {conflict.path}
          </a>
          <span className="jp-pfb-conflictSide">
            {elsewhere ? trans.__('at the path') : trans.__('theirs (from the cloud)')}
          </span>
        </div>
        <div>
          <a
            className="jp-pfb-link"
            href={actions.fileUrl(project, conflict.conflict_path)}
            onClick={open(conflict.conflict_path)}
            title={trans.__('Open %1', conflict.conflict_path)}
          >
            {conflict.conflict_path}
          </a>
          <span className="jp-pfb-conflictSide">
            {elsewhere
              ? trans.__('the other edit (copied on another machine)')
              : trans.__('mine')}
          </span>
        </div>
        {conflictWhy(conflict, trans) && (
          <div className="jp-pfb-conflictWhy">{conflictWhy(conflict, trans)}</div>
        )}
        <div className="jp-pfb-conflictTime">
          {trans.__('detected %1', formatTime(conflict.detected_at))}
        </div>
      </div>
      <div
        className="jp-pfb-conflictActions"
        role="group"
        aria-label={trans.__('Resolve the conflict on %1', conflict.path)}
      >
        {choices(conflict, elsewhere, trans).map(choice => (
          <Button
            key={choice.keep}
            small
            minimal
            disabled={disabled}
            title={choice.title}
            onClick={() => resolve(choice.keep)}
          >
            {pending === choice.keep ? trans.__('Keeping…') : choice.label}
          </Button>
        ))}
      </div>
    </li>
  );
}

interface IChoice {
  keep: Keep;
  label: string;
  title: string;
}

/** The three ways out of a conflict, worded for where the other version is: a copy made
 * elsewhere (``elsewhere``), or mine here. */
function choices(conflict: IConflict, elsewhere: boolean, trans: TranslationBundle): IChoice[] {
  return [
    {
      keep: 'local',
      label: elsewhere ? trans.__('Keep the copy') : trans.__('Keep mine'),
      title: elsewhere
        ? trans.__('Put the copy at %1 and drop the version there', conflict.path)
        : trans.__('Put my version at %1 and drop the version there', conflict.path)
    },
    {
      keep: 'remote',
      label: elsewhere ? trans.__('Keep the path') : trans.__('Keep theirs'),
      title: elsewhere
        ? trans.__('Keep the version at %1 and delete the copy', conflict.path)
        : trans.__('Keep the version at %1 and delete my version', conflict.path)
    },
    {
      keep: 'both',
      label: trans.__('Keep both'),
      title: elsewhere
        ? trans.__('Keep both: the copy stays as %1', conflict.conflict_path)
        : trans.__('Keep both: my version stays as %1', conflict.conflict_path)
    }
  ];
}
