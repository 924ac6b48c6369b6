import type { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  caretDownIcon,
  caretRightIcon,
  folderIcon,
  LabIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { buildTree, filterEntries, queryWords, visibleRows } from '../filetree';
import { IState, fileCounts, fileList, openConflicts } from '../model';
import { formatBytes } from '../status';
import { historyIcon } from '../icons';
import type { IFileEntry, ILocalProject } from '../types';
import type { IPanelActions } from './actions';
import { FILE_STATE_ICON, fileStateLabel } from './fileStates';

export interface IFileTreeProps {
  project: ILocalProject;
  state: IState;
  actions: IPanelActions;
  showIgnored: boolean;
  pageSize: number;
  onRetry: () => void;
  /** Show only the files whose path matches (every folder open); '' shows all. */
  query: string;
  trans: TranslationBundle;
}

/** A project's files as a tree of folders in natural order; long lists show a page at a
 * time; which folders are closed is remembered across reloads. */
export function FileTree(props: IFileTreeProps): JSX.Element {
  const { project, state, actions, pageSize, query, trans } = props;
  const files = state.files[project.id];
  const [shown, setShown] = React.useState(pageSize);
  const [closed, setClosed] = React.useState(() => actions.folders.closedFolders(project.id));
  const items = files?.items;
  const all = React.useMemo(
    () => fileList(state, project.id, { showIgnored: props.showIgnored }),
    [items, props.showIgnored] // the list only changes with this project's items
  );
  const filtering = queryWords(query).length > 0;
  const entries = React.useMemo(() => filterEntries(all, query), [all, query]);
  const tree = React.useMemo(() => buildTree(entries), [entries]);
  const rows = React.useMemo(() => visibleRows(tree, closed, filtering), [tree, closed, filtering]);
  const counts = React.useMemo(() => fileCounts(state, project.id), [items]);
  React.useEffect(() => setShown(pageSize), [pageSize]);

  const toggle = (path: string, isOpen: boolean) => {
    actions.folders.setFolderOpen(project.id, path, isOpen);
    setClosed(actions.folders.closedFolders(project.id));
  };

  const pending =
    counts.pending_push + counts.pending_pull + counts.deleted_locally + counts.failed;
  // conflicts, not paths: a conflict's path and its copy are one
  const conflicts = openConflicts(state, project.id).length;
  const summary = [
    filtering
      ? trans._n('%2 of %1 file', '%2 of %1 files', all.length, entries.length)
      : trans._n('%1 file', '%1 files', all.length),
    !filtering && pending > 0 ? trans.__('%1 pending', pending) : '',
    !filtering && counts.failed > 0 ? trans.__('%1 failed', counts.failed) : '',
    !filtering && conflicts > 0 ? trans._n('%1 conflict', '%1 conflicts', conflicts) : ''
  ]
    .filter(Boolean)
    .join(' · ');

  let body: React.ReactNode;
  if (files === undefined || (files.status === 'loading' && all.length === 0)) {
    body = <div className="jp-pfb-empty jp-pfb-mod-small">{trans.__('Loading files…')}</div>;
  } else if (files.status === 'error' && all.length === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small jp-pfb-mod-error" role="alert">
        {trans.__('Cannot list the files: %1', files.error ?? '')}{' '}
        <Button small minimal onClick={props.onRetry}>
          {trans.__('Retry')}
        </Button>
      </div>
    );
  } else if (all.length === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small">
        {trans.__('No files yet. Files you put in %1 sync automatically.', project.local_path)}
      </div>
    );
  } else if (entries.length === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small">
        {trans.__('No file matches “%1”.', query)}
      </div>
    );
  } else {
    body = (
      <>
        <ul
          className="jp-pfb-fileList jp-pfb-fileTree"
          role="tree"
          aria-label={trans.__('Files of %1', project.name)}
        >
          {rows.slice(0, shown).map(row =>
            row.kind === 'folder' ? (
              <FolderItem
                key={`d:${row.node.path}`}
                path={row.node.path}
                name={row.node.name}
                count={row.node.count}
                depth={row.depth}
                open={row.open}
                disabled={filtering}
                onToggle={() => toggle(row.node.path, !row.open)}
                trans={trans}
              />
            ) : (
              <FileItem
                key={`f:${row.entry.path}`}
                entry={row.entry}
                depth={row.depth}
                onOpen={() => actions.openFile(project, row.entry.path)}
                onHistory={() => actions.openHistory(project, row.entry.path)}
                trans={trans}
              />
            )
          )}
        </ul>
        {rows.length > shown && (
          <div className="jp-pfb-more">
            <Button small minimal onClick={() => setShown(shown + pageSize)}>
              {trans.__('Show %1 more', Math.min(pageSize, rows.length - shown))}
            </Button>
            <span>{trans.__('%1 of %2 rows shown', shown, rows.length)}</span>
          </div>
        )}
      </>
    );
  }
  return (
    <section
      className="jp-pfb-files"
      aria-label={trans.__('Files of %1', project.name)}
      aria-busy={files?.status === 'loading'}
    >
      <h4 className="jp-pfb-subHeader">
        {trans.__('Files')}
        {all.length > 0 && <span className="jp-pfb-count">{summary}</span>}
      </h4>
      {body}
    </section>
  );
}

const indent = (depth: number): React.CSSProperties => ({ paddingLeft: `${6 + depth * 14}px` });

function FolderItem(props: {
  path: string;
  name: string;
  count: number;
  depth: number;
  open: boolean;
  disabled: boolean;
  onToggle: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const files = trans._n('%1 file', '%1 files', props.count);
  return (
    <li className="jp-pfb-folder" data-folder-path={props.path} role="treeitem" aria-expanded={props.open}>
      <button
        className="jp-pfb-fileButton jp-pfb-folderButton"
        style={indent(props.depth)}
        title={`${props.path}/ · ${files}`}
        aria-label={
          props.open
            ? trans.__('Close folder %1 (%2)', props.path, files)
            : trans.__('Open folder %1 (%2)', props.path, files)
        }
        disabled={props.disabled}
        onClick={props.onToggle}
      >
        <LabIcon.resolveReact
          icon={props.open ? caretDownIcon : caretRightIcon}
          className="jp-pfb-caret"
          tag="span"
        />
        <folderIcon.react tag="span" className="jp-pfb-stateIcon" />
        <span className="jp-pfb-filePath">
          <span className="jp-pfb-fileName">{props.name}</span>
        </span>
        <span className="jp-pfb-fileSize">{props.count}</span>
      </button>
    </li>
  );
}

function FileItem(props: {
  entry: IFileEntry;
  depth: number;
  onOpen: () => void;
  onHistory: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { entry, trans } = props;
  const name = entry.path.slice(entry.path.lastIndexOf('/') + 1);
  const Icon = FILE_STATE_ICON[entry.state];
  const size = formatBytes(entry.size, trans);
  const meaning = fileStateLabel(entry.state, trans);
  return (
    <li
      className={`jp-pfb-file jp-pfb-mod-${entry.state}`}
      data-path={entry.path}
      data-state={entry.state}
      role="treeitem"
    >
      <button
        className="jp-pfb-fileButton"
        style={indent(props.depth)}
        title={`${entry.path}\n${meaning}${entry.reason ? ` (${entry.reason})` : ''}${size ? ` · ${size}` : ''}`}
        aria-label={trans.__('Open %1 (%2)', entry.path, meaning)}
        onClick={props.onOpen}
      >
        <span className="jp-pfb-caretSpace" />
        <Icon.react tag="span" className={`jp-pfb-stateIcon jp-pfb-mod-${entry.state}`} />
        <span className="jp-pfb-filePath">
          <span className="jp-pfb-fileName">{name}</span>
        </span>
        <span className="jp-pfb-fileSize">{size}</span>
      </button>
      {entry.state !== 'ignored' && entry.state !== 'skipped' && (
        // a span, not a second <button>: the row's one button stays the file's own
        <span
          className="jp-pfb-rowAction jp-pfb-historyAction"
          role="button"
          tabIndex={0}
          title={trans.__('History of %1…', entry.path)}
          aria-label={trans.__('History of %1…', entry.path)}
          onClick={props.onHistory}
          onKeyDown={event => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              props.onHistory();
            }
          }}
        >
          <historyIcon.react tag="span" className="jp-pfb-rowActionIcon" />
        </span>
      )}
    </li>
  );
}
