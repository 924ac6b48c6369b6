import type { ExpandedMemory } from '../expanded';
import type { ICloudProject, IConflict, ILocalProject, Keep } from '../types';

/**
 * What the views ask of the application. The plugin implements these with JupyterLab's
 * services (dialogs, notifications, the document manager, the file browser); the views
 * stay presentational.
 */
export interface IPanelActions {
  createProject(): void;
  syncAll(): void;
  link(project: ICloudProject): Promise<void>;
  unlink(project: ILocalProject): Promise<void>;
  sync(project: ILocalProject): Promise<void>;
  /** Sync a project paused by the mass-deletion guard, deletions included (asks first). */
  confirmDeletes(project: ILocalProject): Promise<void>;
  cancel(project: ILocalProject): Promise<void>;
  /** Delete a project from the cloud for everyone (asks first, naming what goes). */
  deleteProject(project: { id: string; name: string }): Promise<void>;
  /** Which folders of the file trees are closed (survives a reload). */
  folders: ExpandedMemory;
  resolve(conflict: IConflict, keep: Keep): Promise<void>;
  openFile(project: ILocalProject, path: string): void;
  openFolder(project: ILocalProject): void;
  /** Open the history view of a project file (revisions, diffs, restore). */
  openHistory(project: ILocalProject, path: string): void;
  /** Open the list of a project's deleted files (each with Restore). */
  openDeleted(project: ILocalProject): void;
  /** Open the list of a project's checkpoints (create, restore). */
  openCheckpoints(project: ILocalProject): void;
  /** The JupyterLab URL of a project file (for links that open in a new tab). */
  fileUrl(project: ILocalProject, path: string): string;
}
