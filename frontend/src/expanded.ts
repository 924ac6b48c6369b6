/**
 * What is open in the panel (projects, and folders of their file trees), kept in the
 * browser's localStorage so it survives a reload. Storage failures (private mode, quota)
 * only cost the memory, never the panel.
 */

interface IStored {
  projects: string[];
  folders: Record<string, string[]>;
}

/** The subset of `Storage` used here. */
export type IStorageLike = Pick<Storage, 'getItem' | 'setItem'>;

export class ExpandedMemory {
  constructor(
    private _storage: IStorageLike | null,
    private _key: string
  ) {
    this._data = this._read();
  }

  /** The projects that were open. */
  projects(): string[] {
    return [...this._data.projects];
  }

  setProjects(ids: Iterable<string>): void {
    const next = [...new Set(ids)].sort();
    if (next.join('\n') === [...this._data.projects].sort().join('\n')) {
      return;
    }
    this._data = { ...this._data, projects: next };
    this._write();
  }

  /** The folders of a project's file tree the user closed (folders are open by default). */
  closedFolders(projectId: string): ReadonlySet<string> {
    return new Set(this._data.folders[projectId] ?? []);
  }

  setFolderOpen(projectId: string, path: string, open: boolean): void {
    const folders = new Set(this._data.folders[projectId] ?? []);
    if (folders.has(path) === !open) {
      return;
    }
    if (open) {
      folders.delete(path);
    } else {
      folders.add(path);
    }
    this._data = { ...this._data, folders: { ...this._data.folders, [projectId]: [...folders] } };
    this._write();
  }

  /** Forget the folders of projects no longer linked. */
  keepFoldersOf(projectIds: Iterable<string>): void {
    const keep = new Set(projectIds);
    const folders: Record<string, string[]> = {};
    let changed = false;
    for (const [id, paths] of Object.entries(this._data.folders)) {
      if (keep.has(id)) {
        folders[id] = paths;
      } else {
        changed = true;
      }
    }
    if (changed) {
      this._data = { ...this._data, folders };
      this._write();
    }
  }

  private _read(): IStored {
    try {
      const raw = this._storage?.getItem(this._key);
      const parsed = raw ? (JSON.parse(raw) as Partial<IStored>) : {};
      const projects = Array.isArray(parsed.projects)
        ? parsed.projects.filter((id): id is string => typeof id === 'string')
        : [];
      const folders: Record<string, string[]> = {};
      if (parsed.folders && typeof parsed.folders === 'object') {
        for (const [id, paths] of Object.entries(parsed.folders)) {
          if (Array.isArray(paths)) {
            folders[id] = paths.filter((p): p is string => typeof p === 'string');
          }
        }
      }
      return { projects, folders };
    } catch {
      return { projects: [], folders: {} };
    }
  }

  private _write(): void {
    try {
      this._storage?.setItem(this._key, JSON.stringify(this._data));
    } catch {
      // full or forbidden storage: the panel works, it only forgets on reload
    }
  }

  private _data: IStored;
}
