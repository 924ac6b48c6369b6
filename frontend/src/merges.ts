/**
 * What the panel and the notifications say about merges: a clean merge of edits made on
 * both sides ("Merged edits to analysis.ipynb from another machine"), and why a conflict
 * was not merged (which notebook cells clashed).
 */

import { PathExt } from '@jupyterlab/coreutils';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IConflict, IFileMergedMessage } from './types';

/** "Merged edits to analysis.ipynb from another machine", and whose where known. */
export function mergedSentence(message: IFileMergedMessage, trans: TranslationBundle): string {
  const name = PathExt.basename(message.path);
  return message.merged_with
    ? trans.__('Merged edits to %1 from another machine (%2).', name, message.merged_with)
    : trans.__('Merged edits to %1 from another machine.', name);
}

/** Why the two versions were not merged, in words, and which notebook cells clashed
 * (numbered from 1, as a person counts them); null when no merge was tried. */
export function conflictWhy(conflict: IConflict, trans: TranslationBundle): string | null {
  const cells = (conflict.cells ?? []).map(cell => String(cell.index + 1)).join(', ');
  switch (conflict.reason) {
    case 'overlap':
      return cells
        ? trans._n(
            'Not merged: cell %2 was changed differently on both sides.',
            'Not merged: cells %2 were changed differently on both sides.',
            conflict.cells?.length ?? 0,
            cells
          )
        : trans.__('Not merged: the same lines were changed differently on both sides.');
    case 'delete_edit':
      return trans._n(
        'Not merged: cell %2 was deleted on one side and edited on the other.',
        'Not merged: cells %2 were deleted on one side and edited on the other.',
        conflict.cells?.length ?? 0,
        cells
      );
    case 'binary':
      return trans.__('Not merged: the file is not text.');
    case 'unparsable':
      return trans.__('Not merged: one version is not a valid notebook.');
    case 'too_large':
      return trans.__('Not merged: the file is too large to merge.');
    default:
      return null;
  }
}
