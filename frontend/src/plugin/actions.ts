import { Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';

import { ApiError, errorMessage } from '../api';
import type { IPanelActions } from '../components/actions';
import { DeleteChoice, reviewDeletes } from '../components/DeleteReview';
import type { ProjectsController } from '../controller';
import type { ExpandedMemory } from '../expanded';
import type { IOptions, Observable } from '../options';
import { CommandIDs } from '../panel';
import type { ICloudProject } from '../types';
import { projectsDir } from './createProject';
import type { IHistoryOpener } from './history';
import { fail, tellIfOffline } from './notices';

export interface IActionsOptions {
  controller: ProjectsController;
  commands: CommandRegistry;
  options: Observable<IOptions>;
  memory: ExpandedMemory;
  docManager: IDocumentManager | null;
  /** Opens the history views; set once they exist (they open files through these
   * actions). */
  history: { opener: IHistoryOpener | null };
  trans: TranslationBundle;
}

/** What the views ask of the app, done with JupyterLab's dialogs, notifications, the
 * document manager and the file browser. */
export function createActions(options: IActionsOptions): IPanelActions {
  const { controller, commands, docManager, trans } = options;
  return {
    createProject: () => void commands.execute(CommandIDs.create),
    syncAll: () => void commands.execute(CommandIDs.syncAll),
    link: project => linkProject(controller, project, trans),
    unlink: async project => {
      if (options.options.value.confirmUnlink) {
        const answer = await showDialog({
          title: trans.__('Unlink %1?', project.name),
          body: trans.__(
            'Syncing of %1 stops. Its files stay in %2, and the cloud keeps its copy; you can link it again later.',
            project.name,
            project.local_path
          ),
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Unlink') })],
          defaultButton: 0
        });
        if (!answer.button.accept) {
          return;
        }
      }
      try {
        await controller.unlink(project.id);
      } catch (error) {
        fail(trans.__('Cannot unlink %1', project.name), error, trans);
      }
    },
    sync: async project => {
      try {
        tellIfOffline(controller, await controller.sync(project.id), trans);
      } catch (error) {
        fail(trans.__('Cannot sync %1', project.name), error, trans);
      }
    },
    confirmDeletes: async project => {
      let choice: DeleteChoice;
      try {
        choice = await reviewDeletes(project, await controller.dryRun(project.id), trans);
      } catch (error) {
        fail(trans.__('Cannot list what %1 would delete', project.name), error, trans);
        return;
      }
      if (choice === null) {
        return;
      }
      try {
        await controller.sync(project.id, choice === 'delete', choice === 'restore');
      } catch (error) {
        fail(trans.__('Cannot sync %1', project.name), error, trans);
      }
    },
    deleteProject: project => deleteProject(controller, project, trans),
    folders: options.memory,
    cancel: async project => {
      try {
        await controller.cancel(project.id);
      } catch (error) {
        fail(trans.__('Cannot cancel the sync of %1', project.name), error, trans);
      }
    },
    resolve: async (conflict, keep) => {
      try {
        await controller.resolveConflict(conflict.id, keep);
      } catch (error) {
        fail(trans.__('Cannot resolve the conflict on %1', conflict.path), error, trans);
      }
    },
    openFile: (project, path) => {
      const full = `${project.local_path}/${path}`;
      if (docManager) {
        docManager.openOrReveal(full);
      } else {
        void commands.execute('docmanager:open', { path: full });
      }
    },
    openHistory: (project, path) => options.history.opener?.openFile(project, path),
    openDeleted: project => options.history.opener?.openDeleted(project),
    openCheckpoints: project => options.history.opener?.openCheckpoints(project),
    fileUrl: (project, path) =>
      URLExt.join(PageConfig.getTreeUrl(), URLExt.encodeParts(`${project.local_path}/${path}`)),
    openFolder: project => {
      void commands.execute('filebrowser:go-to-path', { path: project.local_path });
    }
  };
}

/** Link a cloud project: ask for its folder, and again while that folder is in use. */
async function linkProject(
  controller: ProjectsController,
  project: ICloudProject,
  trans: TranslationBundle
): Promise<void> {
  const dir = projectsDir(Object.values(controller.state.projects));
  const chosen = await InputDialog.getText({
    title: trans.__('Link %1', project.name),
    label: trans.__(
      "Pull %1 into which folder? (relative to the server's root; it is made if needed)",
      project.name
    ),
    text: `${dir}/${project.name}`,
    okLabel: trans.__('Link')
  });
  if (!chosen.button.accept || !chosen.value?.trim()) {
    return;
  }
  let localPath: string | undefined = chosen.value.trim();
  for (;;) {
    try {
      const linked = await controller.link(project.id, localPath);
      Notification.success(
        trans.__('Linked %1 at %2; pulling its files.', linked.name, linked.local_path),
        { autoClose: 4000 }
      );
      return;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'folder_in_use')) {
        fail(trans.__('Cannot link %1', project.name), error, trans);
        return;
      }
      const answer = await InputDialog.getText({
        title: trans.__('Link %1 into which folder?', project.name),
        label: trans.__(
          "%1. Choose another folder, relative to the server's root:",
          errorMessage(error, trans)
        ),
        text: `${localPath ?? `projects/${project.name}`}-2`,
        okLabel: trans.__('Link')
      });
      if (!answer.button.accept || !answer.value) {
        return;
      }
      localPath = answer.value.trim();
    }
  }
}

/** Delete a project from the cloud for everyone, after a question naming what goes. */
async function deleteProject(
  controller: ProjectsController,
  project: { id: string; name: string },
  trans: TranslationBundle
): Promise<void> {
  let files: number | undefined = controller.state.cloud.items.find(
    p => p.id === project.id
  )?.file_count;
  if (files === undefined) {
    try {
      files = (await controller.api.cloudProjects()).find(p => p.id === project.id)?.file_count;
    } catch (error) {
      fail(trans.__('Cannot delete %1', project.name), error, trans);
      return;
    }
  }
  const linked = controller.state.projects[project.id];
  const question =
    files === undefined
      ? trans.__(
          'Delete project %1 and all its files from the cloud for everyone? Every machine stops syncing it, and its history goes with it.',
          project.name
        )
      : trans._n(
          'Delete project %2 and its %1 file from the cloud for everyone? Every machine stops syncing it, and its history goes with it.',
          'Delete project %2 and its %1 files from the cloud for everyone? Every machine stops syncing it, and its history goes with it.',
          files,
          project.name
        );
  const answer = await showDialog({
    title: trans.__('Delete %1 from the cloud?', project.name),
    body: linked
      ? `${question} ${trans.__('Your local copy in %1 stays.', linked.local_path)}`
      : question,
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: trans.__('Delete from the cloud') })
    ],
    defaultButton: 0
  });
  if (!answer.button.accept) {
    return;
  }
  try {
    await controller.deleteProject(project.id);
    Notification.success(trans.__('Deleted %1 from the cloud.', project.name), {
      autoClose: 4000
    });
  } catch (error) {
    fail(trans.__('Cannot delete %1', project.name), error, trans);
  }
}
