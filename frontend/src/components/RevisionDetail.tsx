import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import type { Widget } from '@lumino/widgets';
import * as React from 'react';

import { ProjectsApi, errorMessage } from '../api';
import { baseName, classifyDiff, diffStats, IDiffLine, isNotebook, looksBinary } from '../history';
import {
  codeBlock,
  ElementHost,
  IRenderers,
  LuminoHost,
  NotebookPreview,
  notebookDiff
} from '../historyWidgets';
import { formatBytes } from '../status';
import type { IDiffReply, IFileVersion } from '../types';

/** What the detail pane shows of a revision. */
export type DetailView = 'preview' | 'current' | 'previous';

/** Text longer than this is cut in the preview. */
const PREVIEW_LIMIT = 1_000_000;

type Shown =
  | { kind: 'widget'; widget: Widget; note?: string }
  | { kind: 'element'; element: HTMLElement; note?: string }
  | { kind: 'lines'; lines: IDiffLine[] }
  | { kind: 'message'; text: string };

type Loaded =
  | { status: 'loading' }
  | { status: 'error'; error: string }
  | { status: 'done'; shown: Shown };

export interface IRevisionDetailProps {
  api: ProjectsApi;
  projectId: string;
  path: string;
  version: IFileVersion;
  /** The revision before it ("Compare with previous revision"); null: none loaded. */
  previous: IFileVersion | null;
  view: DetailView;
  renderers: IRenderers;
  trans: TranslationBundle;
}

/** A revision's content (read-only) or its diff with the current file or the revision
 * before; loads what it shows, with progress and the error inline. */
export function RevisionDetail(props: IRevisionDetailProps): JSX.Element {
  const { api, projectId, path, version, previous, view, renderers, trans } = props;
  const [loaded, setLoaded] = React.useState<Loaded>({ status: 'loading' });
  const [attempt, setAttempt] = React.useState(0);

  React.useEffect(() => {
    let cancelled = false;
    setLoaded({ status: 'loading' });
    const work =
      view === 'preview'
        ? preview(api, projectId, path, version, renderers, trans)
        : api
            .diff(
              projectId,
              path,
              view === 'previous' ? (previous?.revision ?? version.revision) : version.revision,
              view === 'previous' ? version.revision : null
            )
            .then(reply => showDiff(reply, renderers, trans));
    work.then(
      shown => {
        if (cancelled) {
          if (shown.kind === 'widget') {
            shown.widget.dispose();
          }
          return;
        }
        setLoaded({ status: 'done', shown });
      },
      error => !cancelled && setLoaded({ status: 'error', error: errorMessage(error, trans) })
    );
    return () => {
      cancelled = true;
    };
  }, [projectId, path, version.revision, previous?.revision, view, attempt]);

  if (loaded.status === 'loading') {
    return (
      <div className="jp-pfb-historyDetail jp-pfb-empty jp-pfb-mod-small" aria-busy="true">
        {view === 'preview' ? trans.__('Loading this version…') : trans.__('Comparing…')}
      </div>
    );
  }
  if (loaded.status === 'error') {
    return (
      <div className="jp-pfb-historyDetail jp-pfb-empty jp-pfb-mod-small jp-pfb-mod-error" role="alert">
        {view === 'preview'
          ? trans.__('Cannot load this version: %1', loaded.error)
          : trans.__('Cannot compare: %1', loaded.error)}{' '}
        <Button small minimal onClick={() => setAttempt(attempt + 1)}>
          {trans.__('Retry')}
        </Button>
      </div>
    );
  }
  const { shown } = loaded;
  return (
    <div className={`jp-pfb-historyDetail jp-pfb-mod-${view}`} data-view={view}>
      {shown.kind === 'message' && <div className="jp-pfb-empty jp-pfb-mod-small">{shown.text}</div>}
      {(shown.kind === 'widget' || shown.kind === 'element') && shown.note && (
        <div className="jp-pfb-historyNote">{shown.note}</div>
      )}
      {shown.kind === 'widget' && <LuminoHost widget={shown.widget} />}
      {shown.kind === 'element' && <ElementHost element={shown.element} />}
      {shown.kind === 'lines' && <UnifiedDiff lines={shown.lines} trans={trans} />}
    </div>
  );
}

async function preview(
  api: ProjectsApi,
  projectId: string,
  path: string,
  version: IFileVersion,
  renderers: IRenderers,
  trans: TranslationBundle
): Promise<Shown> {
  if (version.deleted) {
    return { kind: 'message', text: trans.__('The file was deleted in this revision.') };
  }
  const text = await api.content(projectId, path, version.revision);
  if (isNotebook(path)) {
    try {
      return { kind: 'widget', widget: new NotebookPreview(JSON.parse(text), renderers, trans) };
    } catch {
      // not JSON: shown as text below
    }
  }
  if (looksBinary(text)) {
    return {
      kind: 'message',
      text: trans.__('Binary content (%1): no preview.', formatBytes(version.size, trans))
    };
  }
  const cut = text.length > PREVIEW_LIMIT;
  return {
    kind: 'element',
    element: codeBlock(cut ? text.slice(0, PREVIEW_LIMIT) : text, renderers, {
      fileName: baseName(path),
      className: 'jp-pfb-textPreview'
    }),
    note: cut
      ? trans.__('Only the first %1 characters are shown.', PREVIEW_LIMIT.toLocaleString())
      : undefined
  };
}

function showDiff(reply: IDiffReply, renderers: IRenderers, trans: TranslationBundle): Shown {
  if (reply.kind === 'binary') {
    const { from_size, to_size } = reply.diff;
    return {
      kind: 'message',
      text:
        from_size === to_size
          ? trans.__('The binary contents differ (both %1).', formatBytes(from_size, trans))
          : trans.__(
              'The binary contents differ: %1 → %2.',
              formatBytes(from_size, trans),
              formatBytes(to_size, trans)
            )
    };
  }
  if (reply.kind === 'text') {
    const lines = classifyDiff(reply.diff ?? '');
    return lines.length === 0
      ? { kind: 'message', text: trans.__('No differences.') }
      : { kind: 'lines', lines };
  }
  if (!Array.isArray(reply.diff) || reply.diff.length === 0) {
    return { kind: 'message', text: trans.__('No differences.') };
  }
  if (renderers.rendermime === null) {
    const element = document.createElement('pre');
    element.textContent = JSON.stringify(reply.diff, null, 1);
    return { kind: 'element', element };
  }
  return { kind: 'widget', widget: notebookDiff(reply, renderers.rendermime) };
}

/** A unified diff, added and removed lines coloured. */
export function UnifiedDiff(props: { lines: IDiffLine[]; trans: TranslationBundle }): JSX.Element {
  const { lines, trans } = props;
  const stats = diffStats(lines);
  return (
    <div className="jp-pfb-unifiedDiff">
      <div className="jp-pfb-historyNote">
        <span className="jp-pfb-diffAdded">
          {trans._n('%1 line added', '%1 lines added', stats.added)}
        </span>
        {' · '}
        <span className="jp-pfb-diffRemoved">
          {trans._n('%1 line removed', '%1 lines removed', stats.removed)}
        </span>
      </div>
      <pre className="jp-pfb-code">
        {lines.map((line, index) => (
          <div key={index} className={`jp-pfb-diffLine jp-pfb-mod-${line.kind}`}>
            {line.text || ' '}
          </div>
        ))}
      </pre>
    </div>
  );
}
