/** Project names: the cloud's rule, checked before asking it (CONTRACT.md). */

import type { TranslationBundle } from '@jupyterlab/translation';

/** The cloud's rule for project names (they name folders). */
export const PROJECT_NAME_PATTERN = /^[A-Za-z0-9_](?:[A-Za-z0-9._ -]{0,126}[A-Za-z0-9_-])?$/;

/** Why a project name cannot be used, or null when it can. */
export function nameProblem(name: string, trans: TranslationBundle): string | null {
  if (name.length === 0) {
    return trans.__('A name is required.');
  }
  if (name.length > 128) {
    return trans.__('A name has at most 128 characters; this one has %1.', name.length);
  }
  if (/[/\\]/.test(name)) {
    return trans.__('A name cannot contain “/” or “\\”: it becomes a folder name.');
  }
  if (!PROJECT_NAME_PATTERN.test(name)) {
    if (/^[.\- ]/.test(name)) {
      return trans.__('A name cannot start with “.”, “-” or a space.');
    }
    if (/[. ]$/.test(name)) {
      return trans.__('A name cannot end with “.” or a space.');
    }
    return trans.__('Use letters, digits, “_”, “-”, “.” and spaces only.');
  }
  return null;
}
