/**
 * The Lumino parts of the history views: a read-only notebook preview (JupyterLab's
 * rendermime for markdown and outputs), nbdime's notebook diff, syntax-highlighted text,
 * and a React host for a Lumino widget.
 */
import type { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import type * as nbformat from '@jupyterlab/nbformat';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Panel, Widget } from '@lumino/widgets';
import type { IDiffEntry } from 'nbdime/lib/diff/diffentries';
import { NotebookDiffModel } from 'nbdime/lib/diff/model';
import { NotebookDiffWidget } from 'nbdime/lib/diff/widget';
import * as React from 'react';

import { multiline } from './history';
import type { INotebookDiffReply } from './types';

/** What the previews and diffs render with (both optional services of JupyterLab). */
export interface IRenderers {
  rendermime: IRenderMimeRegistry | null;
  languages: IEditorLanguageRegistry | null;
}

/** Longer code is shown plain (highlighting it would keep the page busy). */
const HIGHLIGHT_LIMIT = 200_000;

/** A <pre> with `code`, highlighted as the language of `fileName` (or `language`) when
 * JupyterLab's language registry knows it; plain otherwise. */
export function codeBlock(
  code: string,
  renderers: IRenderers,
  options: { fileName?: string; language?: string; className?: string }
): HTMLElement {
  const pre = document.createElement('pre');
  pre.className = `jp-pfb-code cm-s-jupyter${options.className ? ` ${options.className}` : ''}`;
  pre.textContent = code;
  const registry = renderers.languages;
  if (registry) {
    const language = options.language
      ? registry.findBest(options.language)
      : options.fileName
        ? registry.findByFileName(options.fileName)
        : null;
    if (language && code.length <= HIGHLIGHT_LIMIT) {
      const target = document.createElement('pre');
      registry
        .highlight(code, language, target)
        .then(() => pre.replaceChildren(...Array.from(target.childNodes)))
        .catch(() => undefined); // the plain text stays
    }
  }
  return pre;
}

/** A notebook, read-only: cells with their sources (markdown rendered) and outputs. */
export class NotebookPreview extends Panel {
  constructor(notebook: nbformat.INotebookContent, renderers: IRenderers, trans: TranslationBundle) {
    super();
    this.addClass('jp-pfb-nbPreview');
    const language =
      notebook.metadata?.language_info?.name ??
      (notebook.metadata?.kernelspec?.language as string | undefined) ??
      'python';
    const cells = Array.isArray(notebook.cells) ? notebook.cells : [];
    if (cells.length === 0) {
      this.node.textContent = trans.__('This notebook has no cells.');
    }
    cells.forEach((cell, index) => this.addWidget(this._cell(cell, index, language, renderers)));
  }

  private _cell(
    cell: nbformat.ICell,
    index: number,
    language: string,
    renderers: IRenderers
  ): Widget {
    const box = new Panel();
    box.addClass('jp-pfb-nbCell');
    box.addClass(`jp-pfb-mod-${cell.cell_type}`);
    box.node.dataset.cellIndex = String(index);
    const source = multiline(cell.source);
    const { rendermime } = renderers;
    if (cell.cell_type === 'markdown' && rendermime) {
      box.addWidget(render(rendermime, { 'text/markdown': source }));
      return box;
    }
    const input = new Widget();
    input.addClass('jp-pfb-nbInput');
    if (cell.cell_type === 'code') {
      const prompt = document.createElement('div');
      prompt.className = 'jp-pfb-nbPrompt';
      const count = (cell as nbformat.ICodeCell).execution_count;
      prompt.textContent = `[${count ?? ' '}]:`;
      input.node.appendChild(prompt);
    }
    input.node.appendChild(
      codeBlock(source, renderers, cell.cell_type === 'code' ? { language } : {})
    );
    box.addWidget(input);
    if (cell.cell_type === 'code') {
      for (const output of (cell as nbformat.ICodeCell).outputs ?? []) {
        box.addWidget(this._output(output, renderers));
      }
    }
    return box;
  }

  private _output(output: nbformat.IOutput, renderers: IRenderers): Widget {
    const { rendermime } = renderers;
    if (output.output_type === 'stream') {
      return textWidget(multiline(output.text), 'jp-pfb-nbOutput jp-pfb-mod-stream');
    }
    if (output.output_type === 'error') {
      const traceback = Array.isArray(output.traceback)
        ? output.traceback.map(line => stripAnsi(String(line))).join('\n')
        : `${String(output.ename)}: ${String(output.evalue)}`;
      return textWidget(traceback, 'jp-pfb-nbOutput jp-pfb-mod-error');
    }
    const data = (output as nbformat.IDisplayData).data;
    if (data && rendermime) {
      const widget = render(rendermime, data as ReadonlyPartialJSONObject);
      widget.addClass('jp-pfb-nbOutput');
      return widget;
    }
    return textWidget(JSON.stringify(output, null, 1), 'jp-pfb-nbOutput');
  }
}

/** A rendermime rendering of a mime bundle, untrusted (sanitized, no scripts). */
function render(rendermime: IRenderMimeRegistry, data: ReadonlyPartialJSONObject): Widget {
  const mimeType = rendermime.preferredMimeType(data, 'ensure');
  if (mimeType === undefined) {
    return textWidget(multiline(data['text/plain']), 'jp-pfb-nbOutput');
  }
  const renderer = rendermime.createRenderer(mimeType);
  void renderer.renderModel(new MimeModel({ data, trusted: false }));
  return renderer;
}

function textWidget(text: string, className: string): Widget {
  const widget = new Widget();
  const pre = document.createElement('pre');
  pre.textContent = text;
  widget.node.appendChild(pre);
  widget.node.className = className;
  return widget;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** nbdime's notebook diff of a diff reply, in a root nbdime's styles apply to. */
export function notebookDiff(reply: INotebookDiffReply, rendermime: IRenderMimeRegistry): Widget {
  const model = new NotebookDiffModel(
    reply.base as unknown as nbformat.INotebookContent,
    reply.diff as IDiffEntry[]
  );
  const root = new Panel();
  root.addClass('nbdime-root');
  root.addClass('jp-pfb-nbDiff');
  const widget = new NotebookDiffWidget({ model, rendermime });
  root.addWidget(widget);
  void widget.init();
  return root;
}

/** Shows a Lumino widget inside a React tree; disposes of it when replaced or unmounted.
 * A layout effect: its clean-up runs while the host is still in the document, which
 * Lumino's detach needs. */
export function LuminoHost(props: { widget: Widget; className?: string }): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  React.useLayoutEffect(() => {
    const widget = props.widget;
    if (ref.current && !widget.isAttached) {
      Widget.attach(widget, ref.current);
    }
    return () => {
      try {
        if (widget.isAttached && widget.node.isConnected) {
          Widget.detach(widget);
        }
        widget.dispose();
      } catch {
        // already gone with its host: nothing left to clean up
      }
    };
  }, [props.widget]);
  return <div ref={ref} className={`jp-pfb-luminoHost ${props.className ?? ''}`} />;
}

/** An HTML element (e.g. a highlighted <pre>) inside a React tree. */
export function ElementHost(props: { element: HTMLElement; className?: string }): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    const host = ref.current;
    if (host) {
      host.replaceChildren(props.element);
    }
    return () => host?.replaceChildren();
  }, [props.element]);
  return <div ref={ref} className={props.className} />;
}
