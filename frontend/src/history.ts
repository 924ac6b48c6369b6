/**
 * Pure helpers of the history views: times, unified-diff lines, which linked project a
 * path of the file browser is in, notebook content. Unit-tested.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IFileVersion, ILocalProject } from './types';

/** A Date from the server's ISO time (a time without a zone is UTC). */
export function parseTime(iso: string): Date | null {
  const hasZone = /[zZ]|[+-]\d\d:?\d\d$/.test(iso);
  const date = new Date(hasZone ? iso : `${iso}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "5 minutes ago", "in 2 hours", "just now" (`now` in ms since the epoch). */
export function relativeTime(iso: string, now: number, trans: TranslationBundle): string {
  const date = parseTime(iso);
  if (date === null) {
    return iso;
  }
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) {
    return trans.__('just now');
  }
  const units: [number, (n: number) => string, (n: number) => string][] = [
    [
      60,
      n => trans._n('%1 minute ago', '%1 minutes ago', n),
      n => trans._n('in %1 minute', 'in %1 minutes', n)
    ],
    [
      3600,
      n => trans._n('%1 hour ago', '%1 hours ago', n),
      n => trans._n('in %1 hour', 'in %1 hours', n)
    ],
    [
      86400,
      n => trans._n('%1 day ago', '%1 days ago', n),
      n => trans._n('in %1 day', 'in %1 days', n)
    ],
    [
      86400 * 30,
      n => trans._n('%1 month ago', '%1 months ago', n),
      n => trans._n('in %1 month', 'in %1 months', n)
    ],
    [
      86400 * 365,
      n => trans._n('%1 year ago', '%1 years ago', n),
      n => trans._n('in %1 year', 'in %1 years', n)
    ]
  ];
  let chosen = units[0];
  for (const unit of units) {
    if (abs >= unit[0] * 0.9) {
      chosen = unit;
    }
  }
  const count = Math.max(1, Math.round(abs / chosen[0]));
  return seconds < 0 ? chosen[1](count) : chosen[2](count);
}

/** The local date and time of an ISO time, e.g. "Dec 4, 2026, 3:04:05 AM". */
export function localTime(iso: string): string {
  const date = parseTime(iso);
  return date === null
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** The kind of a line of a unified diff. */
export type DiffLineKind = 'file' | 'hunk' | 'add' | 'del' | 'context' | 'note';

export interface IDiffLine {
  kind: DiffLineKind;
  text: string;
}

/** The lines of a unified diff, each with its kind (for colouring). */
export function classifyDiff(unified: string): IDiffLine[] {
  const lines = unified.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') {
    lines.pop();
  }
  let inHunk = false;
  return lines.map(text => {
    let kind: DiffLineKind;
    if (text.startsWith('@@')) {
      inHunk = true;
      kind = 'hunk';
    } else if (!inHunk && (text.startsWith('--- ') || text.startsWith('+++ '))) {
      kind = 'file';
    } else if (text.startsWith('diff ') || text.startsWith('index ')) {
      inHunk = false;
      kind = 'file';
    } else if (text.startsWith('\\')) {
      kind = 'note'; // "\ No newline at end of file"
    } else if (text.startsWith('+')) {
      kind = 'add';
    } else if (text.startsWith('-')) {
      kind = 'del';
    } else {
      kind = 'context';
    }
    return { kind, text };
  });
}

/** How many lines a unified diff adds and removes. */
export function diffStats(lines: IDiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of lines) {
    if (line.kind === 'add') {
      added++;
    } else if (line.kind === 'del') {
      removed++;
    }
  }
  return { added, removed };
}

/** The linked project a server path (relative to the root, as the file browser has it)
 * is in, with the path inside the project; null outside every project. The longest
 * matching `local_path` wins (a project inside another one's folder). */
export function projectOfPath(
  projects: Iterable<ILocalProject>,
  serverPath: string
): { project: ILocalProject; path: string } | null {
  const clean = serverPath.replace(/^\/+/, '');
  let best: { project: ILocalProject; path: string } | null = null;
  for (const project of projects) {
    const root = project.local_path.replace(/^\/+|\/+$/g, '');
    if (root.length === 0 || !clean.startsWith(`${root}/`)) {
      continue;
    }
    const inner = clean.slice(root.length + 1);
    if (inner.length > 0 && (best === null || root.length > best.project.local_path.length)) {
      best = { project, path: inner };
    }
  }
  return best;
}

/** The revision before `revision` in a newest-first list that is not a deletion; null when
 * the list (as far as it is loaded) has none. */
export function previousRevision(
  items: IFileVersion[],
  revision: string
): IFileVersion | null {
  const index = items.findIndex(item => item.revision === revision);
  if (index < 0) {
    return null;
  }
  return items.slice(index + 1).find(item => !item.deleted) ?? null;
}

/** Append a page to a list, dropping revisions already in it (a page boundary that
 * shifted while a new revision arrived). */
export function appendPage(items: IFileVersion[], page: IFileVersion[]): IFileVersion[] {
  const seen = new Set(items.map(item => item.revision));
  return [...items, ...page.filter(item => !seen.has(item.revision))];
}

/** Whether a path is a notebook. */
export function isNotebook(path: string): boolean {
  return path.toLowerCase().endsWith('.ipynb');
}

/** The text of a notebook field that is a string or a list of lines. */
export function multiline(value: unknown): string {
  if (Array.isArray(value)) {
    return value.map(String).join('');
  }
  return typeof value === 'string' ? value : '';
}

/** A file's name from its path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A short form of a revision id, for headings. */
export function shortRevision(revision: string): string {
  return revision.length > 10 ? revision.slice(0, 8) : revision;
}

/** Whether decoded content is binary: a NUL, or many replacement characters (bytes that
 * are not UTF-8), in its first 8000 characters. */
export function looksBinary(text: string): boolean {
  const head = text.slice(0, 8000);
  if (head.includes('\u0000')) {
    return true;
  }
  let replaced = 0;
  for (const char of head) {
    if (char === '\uFFFD') {
      replaced++;
    }
  }
  return head.length > 0 && replaced / head.length > 0.05;
}
