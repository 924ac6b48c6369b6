import { Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ProjectsApi, errorMessage } from '../api';
import { appendPage, localTime, relativeTime } from '../history';
import { formatBytes } from '../status';
import type { ICheckpoint, IFileVersion } from '../types';
import { emptyPage, HISTORY_PAGE, IPaged, PageFooter } from './FileHistory';
import { useNow } from './hooks';

export interface IProjectHistoryProps {
  api: ProjectsApi;
  project: { id: string; name: string };
  /** Open a file's history view. */
  openHistory: (path: string) => void;
  trans: TranslationBundle;
}

/** The project's deleted files (paged), each with Restore and History. */
export function DeletedFiles(props: IProjectHistoryProps): JSX.Element {
  const { api, project, trans } = props;
  const [list, setList] = React.useState<IPaged<IFileVersion>>(emptyPage);
  const [busy, setBusy] = React.useState<Record<string, boolean>>({});
  const [errors, setErrors] = React.useState<Record<string, string>>({});
  const [restored, setRestored] = React.useState<Set<string>>(new Set());
  const now = useNow(true, 30_000);

  const load = async (token: string | null) => {
    setList(old => ({ ...old, status: 'loading', error: null }));
    try {
      const page = await api.deleted(project.id, HISTORY_PAGE, token);
      setList(old => ({
        items: token === null ? page.items : appendPage(old.items, page.items),
        next: page.next_page_token,
        status: 'idle',
        error: null
      }));
    } catch (error) {
      setList(old => ({ ...old, status: 'error', error: errorMessage(error, trans) }));
    }
  };
  React.useEffect(() => void load(null), [project.id]);

  const restore = async (item: IFileVersion) => {
    setBusy(old => ({ ...old, [item.path]: true }));
    setErrors(({ [item.path]: _gone, ...rest }) => rest);
    try {
      await api.restore(project.id, item.path);
      setRestored(old => new Set(old).add(item.path));
      Notification.success(trans.__('Restored %1.', item.path), { autoClose: 4000 });
    } catch (error) {
      setErrors(old => ({ ...old, [item.path]: errorMessage(error, trans) }));
    } finally {
      setBusy(old => ({ ...old, [item.path]: false }));
    }
  };

  return (
    <div className="jp-pfb-history jp-pfb-mod-deletedFiles" data-project-id={project.id}>
      <ViewHeader
        title={trans.__('Deleted files of %1', project.name)}
        loading={list.status === 'loading'}
        onRefresh={() => void load(null)}
        trans={trans}
      />
      <p className="jp-pfb-historyNote">
        {trans.__('Files deleted from the project, with their last version. Restore brings one back here and in the cloud.')}
      </p>
      {list.items.length === 0 && list.status === 'idle' && (
        <div className="jp-pfb-empty jp-pfb-mod-small">{trans.__('No deleted files.')}</div>
      )}
      <ul className="jp-pfb-historyList" aria-label={trans.__('Deleted files')}>
        {list.items.map(item => (
          <li key={item.path} className="jp-pfb-historyItem jp-pfb-deletedFile" data-path={item.path}>
            <div className="jp-pfb-historyItemMain">
              <span className="jp-pfb-fileName">{item.path}</span>
              <span className="jp-pfb-revisionMeta" title={localTime(item.modified_at)}>
                {trans.__(
                  'last saved by %1 %2 · %3',
                  item.modified_by ?? trans.__('unknown'),
                  relativeTime(item.modified_at, now, trans),
                  formatBytes(item.size, trans)
                )}
              </span>
              {errors[item.path] && (
                <span className="jp-pfb-historyError" role="alert">
                  {trans.__('Cannot restore %1: %2', item.path, errors[item.path])}
                </span>
              )}
            </div>
            <Button small minimal onClick={() => props.openHistory(item.path)}>
              {trans.__('History…')}
            </Button>
            {restored.has(item.path) ? (
              <span className="jp-pfb-revisionTag">{trans.__('restored')}</span>
            ) : (
              <Button
                small
                className="jp-pfb-restoreButton"
                disabled={busy[item.path]}
                onClick={() => void restore(item)}
              >
                {busy[item.path] ? trans.__('Restoring…') : trans.__('Restore')}
              </Button>
            )}
          </li>
        ))}
      </ul>
      <PageFooter list={list} onMore={() => void load(list.next)} trans={trans} />
    </div>
  );
}

/** The project's checkpoints: create one, restore one (undoable). */
export function Checkpoints(props: IProjectHistoryProps): JSX.Element {
  const { api, project, trans } = props;
  const [list, setList] = React.useState<IPaged<ICheckpoint>>(emptyPage);
  const [busy, setBusy] = React.useState<string | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const now = useNow(true, 30_000);

  const load = async () => {
    setList(old => ({ ...old, status: 'loading', error: null }));
    try {
      const items = await api.checkpoints(project.id);
      const sorted = [...items].sort((a, b) => b.seq - a.seq || b.created_at.localeCompare(a.created_at));
      setList({ items: sorted, next: null, status: 'idle', error: null });
    } catch (failure) {
      setList(old => ({ ...old, status: 'error', error: errorMessage(failure, trans) }));
    }
  };
  React.useEffect(() => void load(), [project.id]);

  const create = async () => {
    const answer = await InputDialog.getText({
      title: trans.__('Create a checkpoint of %1', project.name),
      label: trans.__('A name for this state of every file of the project:'),
      placeholder: trans.__('e.g. before the refactoring'),
      okLabel: trans.__('Create')
    });
    const name = answer.value?.trim();
    if (!answer.button.accept || !name) {
      return;
    }
    setBusy('create');
    setError(null);
    try {
      const made = await api.createCheckpoint(project.id, name);
      Notification.success(trans.__('Checkpoint “%1” created.', made.name), { autoClose: 4000 });
      await load();
    } catch (failure) {
      setError(trans.__('Cannot create the checkpoint: %1', errorMessage(failure, trans)));
    } finally {
      setBusy(null);
    }
  };

  const restore = async (checkpoint: ICheckpoint) => {
    const answer = await showDialog({
      title: trans.__('Restore checkpoint “%1”?', checkpoint.name),
      body: trans.__(
        'Every file of %1 goes back to how it was at this checkpoint (%2). An automatic checkpoint is made first, so this restore can be undone by restoring that one.',
        project.name,
        localTime(checkpoint.created_at)
      ),
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Restore') })],
      defaultButton: 0
    });
    if (!answer.button.accept) {
      return;
    }
    setBusy(checkpoint.id);
    setError(null);
    try {
      const done = await api.restoreCheckpoint(project.id, checkpoint.id);
      Notification.success(
        trans.__(
          'Restored checkpoint “%1”. To undo, restore “%2”.',
          done.checkpoint.name,
          done.undo.name
        ),
        { autoClose: 8000 }
      );
      await load();
    } catch (failure) {
      setError(trans.__('Cannot restore “%1”: %2', checkpoint.name, errorMessage(failure, trans)));
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="jp-pfb-history jp-pfb-mod-checkpoints" data-project-id={project.id}>
      <ViewHeader
        title={trans.__('Checkpoints of %1', project.name)}
        loading={list.status === 'loading'}
        onRefresh={() => void load()}
        trans={trans}
      >
        <Button small className="jp-pfb-createCheckpoint" disabled={busy !== null} onClick={() => void create()}>
          {busy === 'create' ? trans.__('Creating…') : trans.__('Create checkpoint…')}
        </Button>
      </ViewHeader>
      <p className="jp-pfb-historyNote">
        {trans.__('A checkpoint is a named state of every file of the project; restoring one brings all files back to it.')}
      </p>
      {busy !== null && (
        <div className="jp-pfb-progress jp-mod-indeterminate" role="progressbar" aria-label={trans.__('Working')}>
          <div className="jp-pfb-progressFill" />
        </div>
      )}
      {error && (
        <div className="jp-pfb-historyError" role="alert">
          {error}
        </div>
      )}
      {list.items.length === 0 && list.status === 'idle' && (
        <div className="jp-pfb-empty jp-pfb-mod-small">{trans.__('No checkpoints yet.')}</div>
      )}
      <ul className="jp-pfb-historyList" aria-label={trans.__('Checkpoints')}>
        {list.items.map(checkpoint => (
          <li key={checkpoint.id} className="jp-pfb-historyItem jp-pfb-checkpoint" data-checkpoint-id={checkpoint.id}>
            <div className="jp-pfb-historyItemMain">
              <span className="jp-pfb-fileName">{checkpoint.name}</span>
              <span className="jp-pfb-revisionMeta" title={localTime(checkpoint.created_at)}>
                {`${localTime(checkpoint.created_at)} · ${relativeTime(checkpoint.created_at, now, trans)}`}
              </span>
            </div>
            <Button
              small
              className="jp-pfb-restoreButton"
              disabled={busy !== null}
              onClick={() => void restore(checkpoint)}
            >
              {busy === checkpoint.id ? trans.__('Restoring…') : trans.__('Restore…')}
            </Button>
          </li>
        ))}
      </ul>
      <PageFooter list={list} onMore={() => void load()} trans={trans} />
    </div>
  );
}

function ViewHeader(props: {
  title: string;
  loading: boolean;
  onRefresh: () => void;
  trans: TranslationBundle;
  children?: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-pfb-historyHeader">
      <h2 className="jp-pfb-historyTitle">{props.title}</h2>
      {props.children}
      <Button small minimal disabled={props.loading} onClick={props.onRefresh}>
        <refreshIcon.react tag="span" className="jp-pfb-buttonIcon" />
        {props.trans.__('Refresh')}
      </Button>
    </div>
  );
}
