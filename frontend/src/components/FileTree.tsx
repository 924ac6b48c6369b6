import {
  Button,
  caretDownIcon,
  caretRightIcon,
  folderIcon,
  LabIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { buildTree, filterEntries, queryWords, visibleRows } from '../filetree';
import { IState, fileCounts, fileList, formatBytes, openConflicts } from '../model';
import type { IFileEntry, ILocalProject } from '../types';
import type { IPanelActions } from './actions';
import { FILE_STATE_ICON, FILE_STATE_LABEL } from './ProjectItem';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export interface IFileTreeProps {
  project: ILocalProject;
  state: IState;
  actions: IPanelActions;
  showIgnored: boolean;
  pageSize: number;
  onRetry: () => void;
  /** Show only the files whose path matches (every folder open); '' shows all. */
  query: string;
}

/** A project's files as a tree of folders in natural order; long lists show a page at a
 * time; which folders are closed is remembered across reloads. */
export function FileTree(props: IFileTreeProps): JSX.Element {
  const { project, state, actions, pageSize, query } = props;
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
    filtering ? `${entries.length} of ${plural(all.length, 'file')}` : plural(all.length, 'file'),
    !filtering && pending > 0 ? `${pending} pending` : '',
    !filtering && counts.failed > 0 ? `${counts.failed} failed` : '',
    !filtering && conflicts > 0 ? plural(conflicts, 'conflict') : ''
  ]
    .filter(Boolean)
    .join(' · ');

  let body: React.ReactNode;
  if (files === undefined || (files.status === 'loading' && all.length === 0)) {
    body = <div className="jp-pfb-empty jp-pfb-mod-small">Loading files…</div>;
  } else if (files.status === 'error' && all.length === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small jp-pfb-mod-error" role="alert">
        Cannot list the files: {files.error}{' '}
        <Button small minimal onClick={props.onRetry}>
          Retry
        </Button>
      </div>
    );
  } else if (all.length === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small">
        No files yet. Files you put in {project.local_path} sync automatically.
      </div>
    );
  } else if (entries.length === 0) {
    body = <div className="jp-pfb-empty jp-pfb-mod-small">No file matches “{query}”.</div>;
  } else {
    body = (
      <>
        <ul className="jp-pfb-fileList jp-pfb-fileTree" role="tree" aria-label={`Files of ${project.name}`}>
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
              />
            ) : (
              <FileItem
                key={`f:${row.entry.path}`}
                entry={row.entry}
                depth={row.depth}
                onOpen={() => actions.openFile(project, row.entry.path)}
              />
            )
          )}
        </ul>
        {rows.length > shown && (
          <div className="jp-pfb-more">
            <Button small minimal onClick={() => setShown(shown + pageSize)}>
              Show {Math.min(pageSize, rows.length - shown)} more
            </Button>
            <span>
              {shown} of {rows.length} rows shown
            </span>
          </div>
        )}
      </>
    );
  }
  return (
    <section className="jp-pfb-files" aria-label={`Files of ${project.name}`} aria-busy={files?.status === 'loading'}>
      <h4 className="jp-pfb-subHeader">
        Files
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
}): JSX.Element {
  return (
    <li className="jp-pfb-folder" data-folder-path={props.path} role="treeitem" aria-expanded={props.open}>
      <button
        className="jp-pfb-fileButton jp-pfb-folderButton"
        style={indent(props.depth)}
        title={`${props.path}/ · ${plural(props.count, 'file')}`}
        aria-label={`${props.open ? 'Close' : 'Open'} folder ${props.path} (${plural(props.count, 'file')})`}
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

function FileItem(props: { entry: IFileEntry; depth: number; onOpen: () => void }): JSX.Element {
  const { entry } = props;
  const name = entry.path.slice(entry.path.lastIndexOf('/') + 1);
  const Icon = FILE_STATE_ICON[entry.state];
  const size = formatBytes(entry.size);
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
        title={`${entry.path}\n${FILE_STATE_LABEL[entry.state]}${entry.reason ? ` (${entry.reason})` : ''}${size ? ` · ${size}` : ''}`}
        aria-label={`Open ${entry.path} (${FILE_STATE_LABEL[entry.state]})`}
        onClick={props.onOpen}
      >
        <span className="jp-pfb-caretSpace" />
        <Icon.react tag="span" className={`jp-pfb-stateIcon jp-pfb-mod-${entry.state}`} />
        <span className="jp-pfb-filePath">
          <span className="jp-pfb-fileName">{name}</span>
        </span>
        <span className="jp-pfb-fileSize">{size}</span>
      </button>
    </li>
  );
}
