/**
 * Open documents follow the cloud.
 *
 * When sync (or a conflict resolution) replaces the file under an open document of a
 * linked project, the server says so with a `file_status` message. Then:
 *
 * - a document without unsaved edits reloads (`context.revert()`, the kernel untouched, the
 *   scroll position kept) and a quiet notification says who made the new version;
 * - a document with unsaved edits asks at once: "Reload (your edits are kept as a conflict
 *   copy)" or "Keep mine (the cloud version is kept as a conflict copy)".
 *
 * Whatever happens next, both versions stay visible: a save over the cloud's version
 * (JupyterLab's own "File Changed" → Overwrite, autosave, Ctrl+S) keeps the cloud version as
 * a conflict copy, and JupyterLab's Revert keeps the edits as one. The copies are made by
 * the server (`POST /projects/{id}/keep-copy`), with the engine's conflict names and
 * Conflict entries, and pushed like any file. The engine never touches an editor's buffer;
 * this module decides about buffers, and only when the user has chosen.
 *
 * Over 400 lines on purpose: one state machine per open document (check, ask, save, keep a
 * copy) whose steps hand each other the same state; apart, they would be harder to follow.
 */

import { Dialog, Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { Contents, ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { Widget } from '@lumino/widgets';

import { errorMessage, requestAPI } from './api';
import type {
  IConflict,
  IFileMergedMessage,
  IFileStatusMessage,
  ILocalProject,
  ServerMessage
} from './types';

type Context = NonNullable<ReturnType<IDocumentManager['contextForWidget']>>;

/** A document's bytes as Jupyter's contents API carries them. */
export interface IDocumentBody {
  content: unknown;
  format: 'json' | 'text' | 'base64';
}

/** What the keep-copy route takes: a cloud revision, or a document body. */
export type KeepCopyRequest = { path: string } & (
  | { revision: string }
  | IDocumentBody
);

/** The cloud's version of a file, on disk under a document with unsaved edits. */
interface ITheirs {
  revision: string | null;
  modifiedBy: string | null;
  disk: Contents.IModel;
  /** Its content as read then (kept if the cloud cannot give that revision). */
  body: IDocumentBody | null;
}

/** What is known of one open document of a linked project. */
class DocumentState {
  constructor(
    readonly context: Context,
    public project: ILocalProject,
    public path: string
  ) {}

  /** The cloud revision and author the latest `file_status` of this path gave. */
  revision: string | null = null;
  modifiedBy: string | null = null;
  /** Sync merged edits from another machine into the file (a `file_merged`): the
   * reload that follows needs no notification of its own (the merge has one), and the
   * author to name is the other machine's. */
  merged = false;
  /** The cloud version under unsaved edits, until both are kept. */
  theirs: ITheirs | null = null;
  /** The buffer as a save began while `theirs` was pending. */
  mine: IDocumentBody | null = null;
  /** A save is running (since then, ms); a check waits for it. */
  savingSince: number | null = null;
  /** A check or a chosen action runs; another check waits for it. */
  busy = false;
  recheck = false;
  dialog: Dialog<unknown> | null = null;

  get name(): string {
    return PathExt.basename(this.context.path);
  }
}

/** A save longer than this is taken as abandoned (JupyterLab's Cancel emits nothing). */
const SAVE_STALE_MS = 60_000;

export interface IOpenDocumentsOptions {
  docManager: IDocumentManager;
  serverSettings: ServerConnection.ISettings;
  /** The linked projects, by id. */
  projects: () => Record<string, ILocalProject>;
  /** Subscribe to the server's websocket messages; returns the unsubscribe function. */
  onMessage: (listener: (message: ServerMessage) => void) => () => void;
  /** A conflict copy this module asked for (its own notification says so). */
  onCopyKept?: (conflict: IConflict) => void;
  /** Translates the dialog and the notifications. */
  trans: TranslationBundle;
}

export class OpenDocuments {
  constructor(options: IOpenDocumentsOptions) {
    this._docManager = options.docManager;
    this._settings = options.serverSettings;
    this._projects = options.projects;
    this._onCopyKept = options.onCopyKept;
    this._trans = options.trans;
    this._unsubscribe = options.onMessage(message => {
      if (message.type === 'file_status') {
        this._onFileStatus(message);
      } else if (message.type === 'file_merged') {
        this._onFileMerged(message);
      }
    });
  }

  dispose(): void {
    this._unsubscribe();
  }

  private get _contents(): Contents.IManager {
    return this._docManager.services.contents;
  }

  // -- events ------------------------------------------------------------------------------

  private _onFileMerged(message: IFileMergedMessage): void {
    const found = this._find(message.project_id, message.path);
    if (found !== undefined) {
      const state = this._state(found.context, found.project, message.path);
      state.merged = true;
      state.revision = message.revision;
      state.modifiedBy = message.merged_with ?? null;
    }
  }

  /** The open document of a linked project's path, if there is one. */
  private _find(
    projectId: string,
    path: string
  ): { context: Context; project: ILocalProject } | undefined {
    const project = this._projects()[projectId];
    if (project === undefined) {
      return undefined;
    }
    const widget = this._docManager.findWidget(`${project.local_path}/${path}`);
    const context = widget ? this._docManager.contextForWidget(widget) : undefined;
    return context === undefined ? undefined : { context, project };
  }

  private _onFileStatus(message: IFileStatusMessage): void {
    if (message.state === 'deleted' || message.state === 'deleted_locally' || message.state === 'ignored') {
      return;
    }
    const found = this._find(message.project_id, message.path);
    if (found === undefined) {
      return;
    }
    const state = this._state(found.context, found.project, message.path);
    if (state.merged && message.revision === state.revision) {
      // the merge's own push: its author is this machine; the other one is named already
    } else if (message.revision) {
      state.revision = message.revision;
      state.modifiedBy = message.modified_by ?? null;
    } else if (message.state !== 'synced') {
      state.modifiedBy = null; // a local replacement (a conflict resolved), not yet pushed
    }
    void this._check(state);
  }

  private _state(context: Context, project: ILocalProject, path: string): DocumentState {
    let state = this._documents.get(context);
    if (state === undefined) {
      const created = new DocumentState(context, project, path);
      state = created;
      this._documents.set(context, created);
      context.saveState.connect((_, saveState) => this._onSaveState(created, saveState));
      context.disposed.connect(() => {
        created.dialog?.reject();
        this._documents.delete(context);
      });
    }
    state.project = project;
    state.path = path;
    return state;
  }

  private _onSaveState(state: DocumentState, saveState: string): void {
    if (saveState === 'started') {
      state.savingSince = Date.now();
      if (state.theirs !== null) {
        state.mine = body(state.context); // what JupyterLab's Revert would discard
      }
      return;
    }
    state.savingSince = null;
    if (saveState === 'completed' && state.theirs !== null) {
      void this._afterSave(state);
    } else if (state.recheck) {
      void this._check(state);
    }
  }

  private _saving(state: DocumentState): boolean {
    return state.savingSince !== null && Date.now() - state.savingSince < SAVE_STALE_MS;
  }

  /** Did the file on disk change under the document? Then reload it or ask. */
  private async _check(state: DocumentState): Promise<void> {
    if (state.busy || this._saving(state)) {
      state.recheck = true;
      return;
    }
    state.busy = true;
    state.recheck = false;
    const { context } = state;
    try {
      const disk = await this._contents.get(context.path, { content: false, hash: true });
      if (context.isDisposed || this._saving(state)) {
        state.recheck = true;
        return;
      }
      const loaded = context.contentsModel;
      const merged = state.merged;
      state.merged = false;
      if (loaded === null || sameFile(disk, loaded)) {
        return; // what the document shows (our own save, a status change)
      }
      if (!context.model.dirty) {
        await revertKeepingView(this._widget(context), context);
        if (merged) {
          return; // the merge's own notification said it
        }
        Notification.info(
          state.modifiedBy
            ? this._trans.__('%1 was updated from the cloud by %2.', state.name, state.modifiedBy)
            : this._trans.__('%1 was replaced on disk; reloaded.', state.name),
          { autoClose: 5000 }
        );
        return;
      }
      if (state.theirs !== null && sameFile(disk, state.theirs.disk)) {
        return; // asked already
      }
      state.theirs = {
        revision: state.revision,
        modifiedBy: state.modifiedBy,
        disk,
        body: await this._read(context)
      };
      void this._ask(state);
    } catch (error) {
      console.warn(`project-filebrowser: cannot check ${context.path}`, error);
    } finally {
      state.busy = false;
      if (state.recheck && !this._saving(state)) {
        void this._check(state);
      }
    }
  }

  // -- the choice --------------------------------------------------------------------------

  private async _ask(state: DocumentState): Promise<void> {
    state.dialog?.reject();
    const trans = this._trans;
    const who = state.theirs?.modifiedBy ?? null;
    const reload = Dialog.okButton({
      label: trans.__('Reload (your edits are kept as a conflict copy)'),
      actions: ['reload']
    });
    const keep = Dialog.warnButton({
      label: trans.__('Keep mine (the cloud version is kept as a conflict copy)'),
      actions: ['keep']
    });
    const dialog = new Dialog({
      title: trans.__('%1 changed in the cloud', state.name),
      body: who
        ? trans.__(
            '%1 saved a newer version of %2 while this tab has unsaved edits. Both versions are kept: choose which one stays at %3; the other becomes a conflict copy beside it.',
            who,
            state.path,
            state.name
          )
        : trans.__(
            'There is a newer version of %1 while this tab has unsaved edits. Both versions are kept: choose which one stays at %2; the other becomes a conflict copy beside it.',
            state.path,
            state.name
          ),
      buttons: [reload, keep],
      defaultButton: 0
    });
    dialog.addClass('jp-pfb-documentChanged');
    state.dialog = dialog;
    const result = await dialog.launch();
    if (state.dialog === dialog) {
      state.dialog = null;
    }
    if (state.theirs === null || state.context.isDisposed) {
      return; // settled meanwhile (a save, a revert)
    }
    if (result.button.actions.includes('reload')) {
      await this._act(state, () => this._reloadKeepingMine(state));
    } else if (result.button.actions.includes('keep')) {
      await this._act(state, () => this._keepMine(state));
    }
    // Closed without a choice: a later save or revert still keeps both versions.
  }

  private async _act(state: DocumentState, action: () => Promise<void>): Promise<void> {
    state.busy = true;
    try {
      await action();
    } catch (error) {
      const why = errorMessage(error, this._trans);
      Notification.error(this._trans.__('Cannot settle %1: %2', state.name, why), {
        autoClose: false
      });
    } finally {
      state.busy = false;
      if (state.recheck) {
        void this._check(state);
      }
    }
  }

  /** The cloud version takes the tab; the edits become a conflict copy first. */
  private async _reloadKeepingMine(state: DocumentState): Promise<void> {
    const conflict = await this._keepCopy(state, body(state.context));
    state.theirs = null;
    await revertKeepingView(this._widget(state.context), state.context);
    Notification.info(
      this._trans.__(
        'Reloaded %1 from the cloud; your edits are kept as %2.',
        state.name,
        conflict.conflict_path
      ),
      { autoClose: 8000 }
    );
  }

  /** The edits are saved at the path; the cloud version becomes a conflict copy first. */
  private async _keepMine(state: DocumentState): Promise<void> {
    const theirs = state.theirs as ITheirs;
    const conflict = await this._keepTheirs(state, theirs);
    state.theirs = null;
    const { context } = state;
    const mine = body(context);
    // Written through the contents API (JupyterLab's save would ask about the changed
    // file once more), then loaded back so that the tab knows the file it shows.
    await this._contents.save(context.path, {
      type: context.contentsModel?.type ?? 'file',
      format: mine.format,
      content: mine.content
    });
    await revertKeepingView(this._widget(context), context);
    Notification.info(
      this._trans.__(
        'Kept your version of %1; the cloud version is kept as %2.',
        state.name,
        conflict.conflict_path
      ),
      { autoClose: 8000 }
    );
  }

  /** A save finished while the cloud version was on disk under the edits: JupyterLab's
   * Overwrite (or autosave, or Ctrl+S) put the edits there, or its Revert put the cloud
   * version in the tab. Keep the one that is no longer at the path. */
  private async _afterSave(state: DocumentState): Promise<void> {
    const theirs = state.theirs as ITheirs;
    const mine = state.mine;
    state.theirs = null;
    state.mine = null;
    state.dialog?.reject();
    await this._act(state, async () => {
      const disk = await this._contents.get(state.context.path, { content: false, hash: true });
      if (sameFile(disk, theirs.disk)) {
        if (mine === null) {
          return;
        }
        const conflict = await this._keepCopy(state, mine);
        Notification.info(
          this._trans.__(
            '%1 now shows the cloud version; your edits are kept as %2.',
            state.name,
            conflict.conflict_path
          ),
          { autoClose: 8000 }
        );
        return;
      }
      const conflict = await this._keepTheirs(state, theirs);
      Notification.info(
        theirs.modifiedBy
          ? this._trans.__(
              'Saved your version of %1; the cloud version by %2 is kept as %3.',
              state.name,
              theirs.modifiedBy,
              conflict.conflict_path
            )
          : this._trans.__(
              'Saved your version of %1; the cloud version is kept as %2.',
              state.name,
              conflict.conflict_path
            ),
        { autoClose: 8000 }
      );
    });
  }

  // -- the server --------------------------------------------------------------------------

  /** Keep the cloud's version: its revision from the cloud, else the bytes read then. */
  private async _keepTheirs(state: DocumentState, theirs: ITheirs): Promise<IConflict> {
    if (theirs.revision !== null) {
      try {
        return await this._keepCopy(state, { revision: theirs.revision });
      } catch (error) {
        if (theirs.body === null) {
          throw error;
        }
        console.warn('project-filebrowser: keeping the copy as read instead', error);
      }
    }
    if (theirs.body === null) {
      throw new Error(this._trans.__('the cloud version of %1 could not be read', state.path));
    }
    return this._keepCopy(state, theirs.body);
  }

  private async _keepCopy(
    state: DocumentState,
    source: { revision: string } | IDocumentBody
  ): Promise<IConflict> {
    const request: KeepCopyRequest = { path: state.path, ...source };
    const conflict = await requestAPI<IConflict>(
      ['projects', state.project.id, 'keep-copy'],
      { method: 'POST', body: JSON.stringify(request) },
      this._settings
    );
    this._onCopyKept?.(conflict);
    return conflict;
  }

  private async _read(context: Context): Promise<IDocumentBody | null> {
    const format = formatOf(context);
    try {
      const model = await this._contents.get(context.path, {
        type: context.contentsModel?.type,
        format: format === 'json' ? 'json' : format,
        content: true
      });
      return { content: model.content, format };
    } catch (error) {
      console.warn(`project-filebrowser: cannot read ${context.path}`, error);
      return null;
    }
  }

  private _widget(context: Context): Widget | undefined {
    return this._docManager.findWidget(context.path) ?? undefined;
  }

  private _docManager: IDocumentManager;
  private _settings: ServerConnection.ISettings;
  private _projects: () => Record<string, ILocalProject>;
  private _onCopyKept?: (conflict: IConflict) => void;
  private _trans: TranslationBundle;
  private _unsubscribe: () => void;
  private _documents = new Map<Context, DocumentState>();
}

/** Are two contents models of the same bytes (by hash when both have one)? */
export function sameFile(a: Partial<Contents.IModel>, b: Partial<Contents.IModel>): boolean {
  if (a.hash && b.hash) {
    return a.hash === b.hash;
  }
  return a.last_modified === b.last_modified;
}

function formatOf(context: Context): IDocumentBody['format'] {
  if (context.contentsModel?.type === 'notebook') {
    return 'json';
  }
  return context.contentsModel?.format === 'base64' ? 'base64' : 'text';
}

/** The document's buffer, as the contents API would save it. */
function body(context: Context): IDocumentBody {
  const format = formatOf(context);
  return {
    format,
    content: format === 'json' ? context.model.toJSON() : context.model.toString()
  };
}

/** Revert to the file on disk, keeping where the view was scrolled. */
async function revertKeepingView(widget: Widget | undefined, context: Context): Promise<void> {
  const scrolled: [Element, number, number][] = [];
  if (widget) {
    for (const element of [widget.node, ...widget.node.querySelectorAll('*')]) {
      if (element.scrollTop > 0 || element.scrollLeft > 0) {
        scrolled.push([element, element.scrollTop, element.scrollLeft]);
      }
    }
  }
  await context.revert();
  const restore = () => {
    for (const [element, top, left] of scrolled) {
      if (element.isConnected) {
        element.scrollTop = top;
        element.scrollLeft = left;
      }
    }
  };
  restore();
  requestAnimationFrame(() => requestAnimationFrame(restore)); // after the view re-renders
}
