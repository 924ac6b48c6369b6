import type { TranslationBundle } from '@jupyterlab/translation';
import type { LabIcon } from '@jupyterlab/ui-components';

import {
  conflictIcon,
  deletedIcon,
  failedIcon,
  ignoredIcon,
  pullIcon,
  pushIcon,
  syncedIcon
} from '../icons';
import type { FileState } from '../types';

/** The icon of each file state in the file trees. */
export const FILE_STATE_ICON: Record<FileState, LabIcon> = {
  synced: syncedIcon,
  pending_push: pushIcon,
  pending_pull: pullIcon,
  conflict: conflictIcon,
  ignored: ignoredIcon,
  deleted_locally: deletedIcon,
  skipped: ignoredIcon,
  failed: failedIcon
};

/** What a file's state means, for its tooltip. */
export function fileStateLabel(state: FileState, trans: TranslationBundle): string {
  switch (state) {
    case 'synced':
      return trans.__('Synced');
    case 'pending_push':
      return trans.__('Local change, waiting to be pushed');
    case 'pending_pull':
      return trans.__('Cloud change, waiting to be pulled');
    case 'conflict':
      return trans.__('Conflict: both sides changed');
    case 'ignored':
      return trans.__('Ignored: not synced');
    case 'deleted_locally':
      return trans.__('Deleted on this machine, still in the cloud');
    case 'skipped':
      return trans.__('Skipped: stays on this machine, not synced');
    case 'failed':
      return trans.__('Failed to sync; tried again automatically, or now with Sync');
  }
}
