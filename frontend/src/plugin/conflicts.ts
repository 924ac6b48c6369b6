import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { CommandIDs } from '../panel';
import type { IConflict, ILocalProject } from '../types';

/**
 * Notifications for new conflicts, batched: a sync that finds ten conflicts shows one
 * notification, not ten.
 */
export class ConflictNotifier {
  constructor(
    private _commands: { execute(id: string, args?: Record<string, string>): Promise<unknown> },
    private _trans: TranslationBundle
  ) {}

  add(conflict: IConflict, project: ILocalProject | undefined): void {
    if (this._skipped.has(conflict.id)) {
      return;
    }
    this._batch.push({ conflict, project });
    if (this._timer === null) {
      this._timer = setTimeout(() => this._flush(), 400);
    }
  }

  /** A conflict copy kept on the user's own choice: whoever asked for it says so. */
  skip(conflictId: number): void {
    this._skipped.add(conflictId);
    this._batch = this._batch.filter(b => b.conflict.id !== conflictId);
  }

  private _flush(): void {
    this._timer = null;
    const batch = this._batch.splice(0);
    if (batch.length === 0) {
      return;
    }
    const names = [...new Set(batch.map(b => b.project?.name ?? b.conflict.project_id))];
    const first = batch[0];
    const { path, conflict_path: copy } = first.conflict;
    const trans = this._trans;
    const single =
      first.conflict.made_here === false
        ? trans.__(
            'Conflict in %1: %2 was changed on two machines. Both versions are kept: the other edit is %3.',
            names[0],
            path,
            copy
          )
        : trans.__(
            'Conflict in %1: %2 changed here and in the cloud. Your version is kept as %3.',
            names[0],
            path,
            copy
          );
    const message =
      batch.length === 1
        ? single
        : trans.__(
            '%1 conflicts in %2: files changed in two places. Both versions of each are kept, one as a conflict copy.',
            batch.length,
            names.join(', ')
          );
    Notification.warning(message, {
      autoClose: 10000,
      actions: [
        {
          label: trans.__('Review'),
          caption: trans.__('Open the conflicts in the Projects panel'),
          callback: () => {
            void this._commands.execute(CommandIDs.showConflicts);
          }
        }
      ]
    });
  }

  private _batch: { conflict: IConflict; project: ILocalProject | undefined }[] = [];
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _skipped = new Set<number>();
}
