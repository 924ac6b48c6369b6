import { describe, expect, it } from 'vitest';

import { ExpandedMemory } from '../src/expanded';
import {
  buildTree,
  filterEntries,
  folderPaths,
  naturalCompare,
  pathMatches,
  visibleRows
} from '../src/filetree';
import { initialState, reduce } from '../src/model';
import { overallStatus } from '../src/status';
import { trans } from './fixtures';
import type { IFileEntry } from '../src/types';

const f = (path: string): IFileEntry => ({ path, size: 1, state: 'synced' });

describe('naturalCompare', () => {
  it('orders numbers inside names as numbers', () => {
    const names = ['f10', 'f2', 'f1', 'F3', 'f1b', 'a'];
    expect([...names].sort(naturalCompare)).toEqual(['a', 'f1', 'f1b', 'f2', 'F3', 'f10']);
  });

  it('is a total order: names equal but for case still compare', () => {
    expect(naturalCompare('A.txt', 'a.txt')).not.toBe(0);
    expect(naturalCompare('a.txt', 'a.txt')).toBe(0);
  });
});

describe('buildTree', () => {
  const tree = buildTree(
    ['f10.txt', 'f2.txt', 'data/run10/x.csv', 'data/run2/x.csv', 'data/a.csv', 'f1.txt'].map(f)
  );

  it('puts folders before files, both in natural order, with counts at any depth', () => {
    expect(tree.folders.map(d => d.name)).toEqual(['data']);
    expect(tree.files.map(e => e.path)).toEqual(['f1.txt', 'f2.txt', 'f10.txt']);
    const data = tree.folders[0];
    expect(data.folders.map(d => d.path)).toEqual(['data/run2', 'data/run10']);
    expect(data.files.map(e => e.path)).toEqual(['data/a.csv']);
    expect([tree.count, data.count, data.folders[1].count]).toEqual([6, 3, 1]);
    expect(folderPaths(tree)).toEqual(['data', 'data/run2', 'data/run10']);
  });

  it('has no folder a delete emptied: folders exist only above files', () => {
    const after = buildTree(['keep.txt', 'data/a.csv'].map(f).filter(e => !e.path.startsWith('data/')));
    expect(after.folders).toEqual([]);
    expect(after.count).toBe(1);
  });

  it('shows the rows of open folders only, or all of them', () => {
    const closed = visibleRows(tree, new Set(['data']));
    expect(closed.map(r => (r.kind === 'folder' ? `${r.node.path}/` : r.entry.path))).toEqual([
      'data/',
      'f1.txt',
      'f2.txt',
      'f10.txt'
    ]);
    const open = visibleRows(tree, new Set(['data/run2']));
    expect(open.map(r => [r.kind === 'folder' ? `${r.node.path}/` : r.entry.path, r.depth])).toEqual([
      ['data/', 0],
      ['data/run2/', 1],
      ['data/run10/', 1],
      ['data/run10/x.csv', 2],
      ['data/a.csv', 1],
      ['f1.txt', 0],
      ['f2.txt', 0],
      ['f10.txt', 0]
    ]);
    expect(visibleRows(tree, new Set(['data']), true)).toHaveLength(9);
  });
});

describe('the file filter', () => {
  const entries = ['notes/Report 2024.md', 'notes/todo.txt', 'data/report.csv'].map(f);

  it('matches every word of the query in the path, case-insensitively', () => {
    expect(pathMatches('notes/Report 2024.md', 'report 2024')).toBe(true);
    expect(pathMatches('notes/Report 2024.md', 'report 2025')).toBe(false);
    expect(filterEntries(entries, 'REPORT').map(e => e.path)).toEqual([
      'notes/Report 2024.md',
      'data/report.csv'
    ]);
    expect(filterEntries(entries, 'notes todo').map(e => e.path)).toEqual(['notes/todo.txt']);
  });

  it('keeps everything for a blank query', () => {
    expect(filterEntries(entries, '   ')).toBe(entries);
  });
});

describe('ExpandedMemory', () => {
  const storage = () => {
    const data = new Map<string, string>();
    return {
      getItem: (key: string) => data.get(key) ?? null,
      setItem: (key: string, value: string) => void data.set(key, value)
    };
  };

  it('remembers open projects and folders across instances (a reload)', () => {
    const store = storage();
    const first = new ExpandedMemory(store, 'k');
    first.setProjects(['p1', 'p2']);
    first.setFolderOpen('p1', 'data', false);
    first.setFolderOpen('p1', 'data/run2', false);
    first.setFolderOpen('p1', 'data/run2', true);
    const second = new ExpandedMemory(store, 'k');
    expect(second.projects()).toEqual(['p1', 'p2']);
    expect([...second.closedFolders('p1')]).toEqual(['data']);
    second.keepFoldersOf(['p2']);
    expect([...new ExpandedMemory(store, 'k').closedFolders('p1')]).toEqual([]);
  });

  it('survives broken or missing storage', () => {
    const broken = {
      getItem: () => '{not json',
      setItem: () => {
        throw new Error('quota');
      }
    };
    const memory = new ExpandedMemory(broken, 'k');
    expect(memory.projects()).toEqual([]);
    memory.setFolderOpen('p', 'a', false);
    expect([...memory.closedFolders('p')]).toEqual(['a']);
    expect(new ExpandedMemory(null, 'k').projects()).toEqual([]);
  });
});

describe('the status bar with no projects', () => {
  it("says the cloud's reason (a wrong token) instead of 'No projects'", () => {
    let state = reduce(initialState(), {
      type: 'message',
      message: { type: 'hello', protocol: 1, version: '0.1.0' }
    });
    state = reduce(state, { type: 'projects/loaded', items: [] });
    expect(overallStatus(state, trans).label).toBe('No projects');
    state = reduce(state, { type: 'cloud/failed', error: 'The token is not valid.' });
    const overall = overallStatus(state, trans);
    expect(overall.kind).toBe('error');
    expect(overall.label).toBe('Cloud: The token is not valid');
    expect(overall.title).toContain('The token is not valid.');
  });
});
