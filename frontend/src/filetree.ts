/**
 * A project's files as a tree of folders, sorted the way people count (f1, f2, f10), and
 * filtered by a query. Pure functions: unit-tested without a browser.
 */

import type { IFileEntry } from './types';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Natural order: digits compare as numbers ("f2" before "f10"), case is secondary. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A folder of the tree: its sub-folders, then its files, each in natural order. */
export interface IFolderNode {
  /** The folder's own name ('' for the project root). */
  name: string;
  /** Its path inside the project ('' for the root). */
  path: string;
  folders: IFolderNode[];
  files: IFileEntry[];
  /** How many files it holds at any depth. */
  count: number;
}

/**
 * The tree of `entries`. Folders exist only as the parents of files, so a folder whose
 * last file went (deleted here or in the cloud) is not shown.
 */
export function buildTree(entries: Iterable<IFileEntry>): IFolderNode {
  const root: IFolderNode = { name: '', path: '', folders: [], files: [], count: 0 };
  const index = new Map<string, IFolderNode>([['', root]]);
  const folderOf = (path: string): IFolderNode => {
    const known = index.get(path);
    if (known !== undefined) {
      return known;
    }
    const slash = path.lastIndexOf('/');
    const parent = folderOf(slash < 0 ? '' : path.slice(0, slash));
    const node: IFolderNode = { name: path.slice(slash + 1), path, folders: [], files: [], count: 0 };
    parent.folders.push(node);
    index.set(path, node);
    return node;
  };
  for (const entry of entries) {
    const slash = entry.path.lastIndexOf('/');
    folderOf(slash < 0 ? '' : entry.path.slice(0, slash)).files.push(entry);
  }
  const finish = (node: IFolderNode): number => {
    node.folders.sort((a, b) => naturalCompare(a.name, b.name));
    node.files.sort((a, b) => naturalCompare(baseName(a.path), baseName(b.path)));
    node.count = node.files.length + node.folders.reduce((sum, f) => sum + finish(f), 0);
    return node.count;
  };
  finish(root);
  return root;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The words of a query, lower-cased; empty for a blank query. */
export function queryWords(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

/** Whether a file's path holds every word of the query (case-insensitive). */
export function pathMatches(path: string, query: string): boolean {
  const lower = path.toLowerCase();
  return queryWords(query).every(word => lower.includes(word));
}

/** The entries whose path matches the query (all of them for a blank query). */
export function filterEntries(entries: IFileEntry[], query: string): IFileEntry[] {
  if (queryWords(query).length === 0) {
    return entries;
  }
  return entries.filter(entry => pathMatches(entry.path, query));
}

/** Every folder path of a tree, parents before children (to open them all). */
export function folderPaths(node: IFolderNode): string[] {
  return node.folders.flatMap(folder => [folder.path, ...folderPaths(folder)]);
}

/** One visible row of the tree, in display order. */
export type TreeRow =
  | { kind: 'folder'; node: IFolderNode; depth: number; open: boolean }
  | { kind: 'file'; entry: IFileEntry; depth: number };

/** The rows shown for a tree when the folders in `closed` are closed (`all`: none is). */
export function visibleRows(
  root: IFolderNode,
  closed: ReadonlySet<string>,
  all = false
): TreeRow[] {
  const rows: TreeRow[] = [];
  const walk = (node: IFolderNode, depth: number) => {
    for (const folder of node.folders) {
      const isOpen = all || !closed.has(folder.path);
      rows.push({ kind: 'folder', node: folder, depth, open: isOpen });
      if (isOpen) {
        walk(folder, depth + 1);
      }
    }
    for (const entry of node.files) {
      rows.push({ kind: 'file', entry, depth });
    }
  };
  walk(root, 0);
  return rows;
}
