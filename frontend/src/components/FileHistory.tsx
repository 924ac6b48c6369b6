import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ProjectsApi, errorMessage } from '../api';
import { appendPage, baseName, localTime, previousRevision, relativeTime } from '../history';
import type { IRenderers } from '../historyWidgets';
import { formatBytes } from '../status';
import type { IFileVersion } from '../types';
import { useNow } from './hooks';
import { DetailView, RevisionDetail } from './RevisionDetail';

/** How many revisions a page of the list asks for. */
export const HISTORY_PAGE = 50;

export interface IFileHistoryProps {
  api: ProjectsApi;
  project: { id: string; name: string };
  /** The file's path inside the project. */
  path: string;
  renderers: IRenderers;
  /** Open the file itself in an editor. */
  openFile: () => void;
  /** Calls `changed` whenever the file's history may have grown (a sync of it); returns
   * the function that stops watching. */
  watch?: (changed: () => void) => () => void;
  trans: TranslationBundle;
}

/** A paged list, with its loading state. */
export interface IPaged<T> {
  items: T[];
  next: string | null;
  status: 'loading' | 'idle' | 'error';
  error: string | null;
}

/** A list not loaded yet. */
export function emptyPage<T>(): IPaged<T> {
  return { items: [], next: null, status: 'loading', error: null };
}

/** A file's history: its revisions newest first (paged), and for the selected one a
 * preview, the diffs with the current file or the revision before, and Restore. */
export function FileHistory(props: IFileHistoryProps): JSX.Element {
  const { api, project, path, renderers, trans } = props;
  const [list, setList] = React.useState<IPaged<IFileVersion>>(emptyPage);
  const [selected, setSelected] = React.useState<string | null>(null);
  const [view, setView] = React.useState<DetailView>('preview');
  const [restoring, setRestoring] = React.useState(false);
  const [restoreError, setRestoreError] = React.useState<string | null>(null);
  const now = useNow(true, 30_000);

  const load = React.useCallback(
    async (token: string | null): Promise<IFileVersion[]> => {
      setList(old => ({ ...old, status: 'loading', error: null }));
      try {
        const page = await api.history(project.id, path, HISTORY_PAGE, token);
        let items: IFileVersion[] = [];
        setList(old => {
          items = token === null ? page.items : appendPage(old.items, page.items);
          return { items, next: page.next_page_token, status: 'idle', error: null };
        });
        return token === null ? page.items : items;
      } catch (error) {
        setList(old => ({ ...old, status: 'error', error: errorMessage(error, trans) }));
        return [];
      }
    },
    [api, project.id, path]
  );

  const reload = async (select?: string) => {
    const items = await load(null);
    const keep = select ?? selected;
    setSelected(items.some(item => item.revision === keep) ? keep : (items[0]?.revision ?? null));
  };
  React.useEffect(() => void reload(), [load]);

  // a new revision (a save here, a sync from elsewhere) shows up by itself
  const reloadNow = React.useRef(reload);
  reloadNow.current = reload;
  const { watch } = props;
  React.useEffect(() => {
    if (!watch) {
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = watch(() => {
      clearTimeout(timer);
      timer = setTimeout(() => void reloadNow.current(), 500);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [watch]);

  const index = list.items.findIndex(item => item.revision === selected);
  const version = index >= 0 ? list.items[index] : null;
  const previous = version ? previousRevision(list.items, version.revision) : null;
  const isHead = index === 0 && version !== null && !version.deleted;
  // a comparison the selected revision has not (a deletion; the oldest one) shows its preview
  const shownView: DetailView =
    version !== null &&
    ((view !== 'preview' && version.deleted) || (view === 'previous' && previous === null))
      ? 'preview'
      : view;

  const restore = async (chosen: IFileVersion) => {
    const answer = await showDialog({
      title: trans.__('Restore this version of %1?', baseName(path)),
      body: (
        <div className="jp-pfb-restoreQuestion">
          <p>
            {trans.__(
              'The version saved by %1 on %2 is restored.',
              chosen.modified_by ?? trans.__('someone'),
              localTime(chosen.modified_at)
            )}
          </p>
          <p>
            {trans.__(
              'The current version stays in the history; this version becomes the newest. Unsynced edits on this machine are kept first.'
            )}
          </p>
        </div>
      ),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Restore') })],
      defaultButton: 0
    });
    if (!answer.button.accept) {
      return;
    }
    setRestoring(true);
    setRestoreError(null);
    try {
      const head = await api.restore(project.id, path, chosen.revision);
      Notification.success(
        trans.__('Restored %1 to the version of %2.', path, localTime(chosen.modified_at)),
        { autoClose: 5000 }
      );
      setView('preview');
      await reload(head.revision);
    } catch (error) {
      setRestoreError(errorMessage(error, trans));
    } finally {
      setRestoring(false);
    }
  };

  return (
    <div className="jp-pfb-history" data-project-id={project.id} data-path={path}>
      <div className="jp-pfb-historyHeader">
        <h2 className="jp-pfb-historyTitle" title={`${project.name}: ${path}`}>
          {trans.__('History of %1', path)}
          <span className="jp-pfb-projectSub">{project.name}</span>
        </h2>
        <Button small minimal onClick={props.openFile} title={trans.__('Open %1', path)}>
          {trans.__('Open file')}
        </Button>
        <Button
          small
          minimal
          disabled={list.status === 'loading'}
          title={trans.__('Load the history again')}
          onClick={() => void reload()}
        >
          <refreshIcon.react tag="span" className="jp-pfb-buttonIcon" />
          {trans.__('Refresh')}
        </Button>
      </div>
      <div className="jp-pfb-historyBody">
        <section className="jp-pfb-revisions" aria-label={trans.__('Revisions of %1', path)}>
          {list.items.length === 0 && list.status === 'idle' && (
            <div className="jp-pfb-empty jp-pfb-mod-small">
              {trans.__('No history yet: the file has not been synced.')}
            </div>
          )}
          <ul className="jp-pfb-revisionList" role="listbox" aria-label={trans.__('Revisions')}>
            {list.items.map((item, i) => (
              <RevisionRow
                key={item.revision}
                version={item}
                newest={i === 0}
                selected={item.revision === selected}
                now={now}
                onSelect={() => setSelected(item.revision)}
                trans={trans}
              />
            ))}
          </ul>
          <PageFooter list={list} onMore={() => void load(list.next)} trans={trans} />
        </section>
        <section className="jp-pfb-revisionPane" aria-label={trans.__('Selected revision')}>
          {version === null ? (
            <div className="jp-pfb-empty jp-pfb-mod-small">
              {list.status === 'loading' ? trans.__('Loading the history…') : trans.__('Select a revision.')}
            </div>
          ) : (
            <>
              <div className="jp-pfb-historyActions" role="toolbar">
                <ViewButton view="preview" current={shownView} onClick={setView} disabled={false}>
                  {trans.__('Preview')}
                </ViewButton>
                <ViewButton view="current" current={shownView} onClick={setView} disabled={version.deleted}>
                  {trans.__('Compare with current file')}
                </ViewButton>
                <ViewButton
                  view="previous"
                  current={shownView}
                  onClick={setView}
                  disabled={version.deleted || previous === null}
                >
                  {trans.__('Compare with previous revision')}
                </ViewButton>
                <Button
                  small
                  className="jp-pfb-restoreButton"
                  disabled={restoring || version.deleted || isHead}
                  title={
                    isHead
                      ? trans.__('This is the newest version')
                      : trans.__('Make this version the newest one again')
                  }
                  onClick={() => void restore(version)}
                >
                  {restoring ? trans.__('Restoring…') : trans.__('Restore this version…')}
                </Button>
              </div>
              {restoring && <div className="jp-pfb-progress jp-mod-indeterminate" role="progressbar" aria-label={trans.__('Restoring')}><div className="jp-pfb-progressFill" /></div>}
              {restoreError && (
                <div className="jp-pfb-historyError" role="alert">
                  {trans.__('Cannot restore this version: %1', restoreError)}
                </div>
              )}
              <RevisionDetail
                api={api}
                projectId={project.id}
                path={path}
                version={version}
                previous={previous}
                view={shownView}
                renderers={renderers}
                trans={trans}
              />
            </>
          )}
        </section>
      </div>
    </div>
  );
}

function ViewButton(props: {
  view: DetailView;
  current: DetailView;
  disabled: boolean;
  onClick: (view: DetailView) => void;
  children: React.ReactNode;
}): JSX.Element {
  const active = props.view === props.current;
  return (
    <Button
      small
      minimal={!active}
      className={`jp-pfb-viewButton${active ? ' jp-mod-active' : ''}`}
      data-view={props.view}
      aria-pressed={active}
      disabled={props.disabled}
      onClick={() => props.onClick(props.view)}
    >
      {props.children}
    </Button>
  );
}

function RevisionRow(props: {
  version: IFileVersion;
  newest: boolean;
  selected: boolean;
  now: number;
  onSelect: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { version, trans } = props;
  const when = localTime(version.modified_at);
  return (
    <li
      className={`jp-pfb-revision${props.selected ? ' jp-mod-selected' : ''}${version.deleted ? ' jp-pfb-mod-deleted' : ''}`}
      data-revision={version.revision}
      role="option"
      aria-selected={props.selected}
    >
      <button className="jp-pfb-revisionButton" onClick={props.onSelect} title={when}>
        <span className="jp-pfb-revisionLine">
          <span className="jp-pfb-revisionWho">{version.modified_by ?? trans.__('unknown')}</span>
          <span className="jp-pfb-revisionWhen">
            {relativeTime(version.modified_at, props.now, trans)}
          </span>
        </span>
        <span className="jp-pfb-revisionLine jp-pfb-revisionMeta">
          <span>{when}</span>
          {version.deleted ? (
            <span className="jp-pfb-revisionTag jp-pfb-mod-deleted">{trans.__('deleted')}</span>
          ) : (
            <span>{formatBytes(version.size, trans)}</span>
          )}
          {props.newest && <span className="jp-pfb-revisionTag">{trans.__('newest')}</span>}
        </span>
      </button>
    </li>
  );
}

/** "Load more" under a paged list, and its progress or error. */
export function PageFooter<T>(props: {
  list: IPaged<T>;
  onMore: () => void;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { list, trans } = props;
  if (list.status === 'error') {
    return (
      <div className="jp-pfb-historyError" role="alert">
        {trans.__('Cannot load the list: %1', list.error ?? '')}{' '}
        <Button small minimal onClick={props.onMore}>
          {trans.__('Retry')}
        </Button>
      </div>
    );
  }
  if (list.status === 'loading') {
    return (
      <div className="jp-pfb-empty jp-pfb-mod-small" aria-busy="true">
        {trans.__('Loading…')}
      </div>
    );
  }
  if (list.next === null) {
    return null;
  }
  return (
    <div className="jp-pfb-more">
      <Button small minimal className="jp-pfb-loadMore" onClick={props.onMore}>
        {trans.__('Load more')}
      </Button>
    </div>
  );
}
