import { describe, expect, it } from 'vitest';

import { conflictWhy, mergedSentence } from '../src/merges';
import { conflict, trans } from './fixtures';

describe('merges', () => {
  it('a clean merge is told by file name, and with whom where known', () => {
    const merged = { type: 'file_merged' as const, project_id: 'p', path: 'a/b.ipynb', revision: 'r' };
    expect(mergedSentence(merged, trans)).toBe('Merged edits to b.ipynb from another machine.');
    expect(mergedSentence({ ...merged, merged_with: 'bob' }, trans)).toBe(
      'Merged edits to b.ipynb from another machine (bob).'
    );
  });

  it('a conflict says why it did not merge, and which cells (counted from 1)', () => {
    expect(conflictWhy(conflict(), trans)).toBeNull(); // no merge was tried
    expect(conflictWhy(conflict({ reason: 'overlap', cells: [{ id: 'c1', index: 1 }] }), trans)).toBe(
      'Not merged: cell 2 was changed differently on both sides.'
    );
    const two = [
      { id: 'a', index: 0 },
      { id: null, index: 4 }
    ];
    expect(conflictWhy(conflict({ reason: 'overlap', cells: two }), trans)).toBe(
      'Not merged: cells 1, 5 were changed differently on both sides.'
    );
    expect(conflictWhy(conflict({ reason: 'overlap', cells: [] }), trans)).toBe(
      'Not merged: the same lines were changed differently on both sides.'
    );
    expect(conflictWhy(conflict({ reason: 'delete_edit', cells: two }), trans)).toBe(
      'Not merged: cells 1, 5 were deleted on one side and edited on the other.'
    );
    expect(conflictWhy(conflict({ reason: 'binary' }), trans)).toBe('Not merged: the file is not text.');
    expect(conflictWhy(conflict({ reason: 'too_large' }), trans)).toBe(
      'Not merged: the file is too large to merge.'
    );
  });
});
