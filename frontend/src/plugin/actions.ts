import { Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
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
import { fail, tellIfOffline } from './notices';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export interface IActionsOptions {
  controller: ProjectsController;
  commands: CommandRegistry;
  options: Observable<IOptions>;
  memory: ExpandedMemory;
  docManager: IDocumentManager | null;
}

/** What the views ask of the app, done with JupyterLab's dialogs, notifications, the
 * document manager and the file browser. */
export function createActions(options: IActionsOptions): IPanelActions {
  const { controller, commands, docManager } = options;
  return {
    createProject: () => void commands.execute(CommandIDs.create),
    syncAll: () => void commands.execute(CommandIDs.syncAll),
    link: project => linkProject(controller, project),
    unlink: async project => {
      if (options.options.value.confirmUnlink) {
        const answer = await showDialog({
          title: `Unlink ${project.name}?`,
          body: `Syncing of ${project.name} stops. Its files stay in ${project.local_path}, and the cloud keeps its copy; you can link it again later.`,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Unlink' })],
          defaultButton: 0
        });
        if (!answer.button.accept) {
          return;
        }
      }
      try {
        await controller.unlink(project.id);
      } catch (error) {
        fail(`Cannot unlink ${project.name}`, error);
      }
    },
    sync: async project => {
      try {
        tellIfOffline(controller, await controller.sync(project.id));
      } catch (error) {
        fail(`Cannot sync ${project.name}`, error);
      }
    },
    confirmDeletes: async project => {
      let choice: DeleteChoice;
      try {
        choice = await reviewDeletes(project, await controller.dryRun(project.id));
      } catch (error) {
        fail(`Cannot list what ${project.name} would delete`, error);
        return;
      }
      if (choice === null) {
        return;
      }
      try {
        await controller.sync(project.id, choice === 'delete', choice === 'restore');
      } catch (error) {
        fail(`Cannot sync ${project.name}`, error);
      }
    },
    deleteProject: project => deleteProject(controller, project),
    folders: options.memory,
    cancel: async project => {
      try {
        await controller.cancel(project.id);
      } catch (error) {
        fail(`Cannot cancel the sync of ${project.name}`, error);
      }
    },
    resolve: async (conflict, keep) => {
      try {
        await controller.resolveConflict(conflict.id, keep);
      } catch (error) {
        fail(`Cannot resolve the conflict on ${conflict.path}`, error);
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
    fileUrl: (project, path) =>
      URLExt.join(PageConfig.getTreeUrl(), URLExt.encodeParts(`${project.local_path}/${path}`)),
    openFolder: project => {
      void commands.execute('filebrowser:go-to-path', { path: project.local_path });
    }
  };
}

/** Link a cloud project: ask for its folder, and again while that folder is in use. */
async function linkProject(controller: ProjectsController, project: ICloudProject): Promise<void> {
  const dir = projectsDir(Object.values(controller.state.projects));
  const chosen = await InputDialog.getText({
    title: `Link ${project.name}`,
    label: `Pull ${project.name} into which folder? (relative to the server's root; it is made if needed)`,
    text: `${dir}/${project.name}`,
    okLabel: 'Link'
  });
  if (!chosen.button.accept || !chosen.value?.trim()) {
    return;
  }
  let localPath: string | undefined = chosen.value.trim();
  for (;;) {
    try {
      const linked = await controller.link(project.id, localPath);
      Notification.success(`Linked ${linked.name} at ${linked.local_path}; pulling its files.`, {
        autoClose: 4000
      });
      return;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'folder_in_use')) {
        fail(`Cannot link ${project.name}`, error);
        return;
      }
      const answer = await InputDialog.getText({
        title: `Link ${project.name} into which folder?`,
        label: `${errorMessage(error)}. Choose another folder, relative to the server's root:`,
        text: `${localPath ?? `projects/${project.name}`}-2`,
        okLabel: 'Link'
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
  project: { id: string; name: string }
): Promise<void> {
  let files: number | undefined = controller.state.cloud.items.find(
    p => p.id === project.id
  )?.file_count;
  if (files === undefined) {
    try {
      files = (await controller.api.cloudProjects()).find(p => p.id === project.id)?.file_count;
    } catch (error) {
      fail(`Cannot delete ${project.name}`, error);
      return;
    }
  }
  const what = files === undefined ? 'all its files' : `its ${plural(files, 'file')}`;
  const linked = controller.state.projects[project.id];
  const answer = await showDialog({
    title: `Delete ${project.name} from the cloud?`,
    body: `Delete project ${project.name} and ${what} from the cloud for everyone? Every machine stops syncing it, and its history goes with it.${
      linked ? ` Your local copy in ${linked.local_path} stays.` : ''
    }`,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete from the cloud' })],
    defaultButton: 0
  });
  if (!answer.button.accept) {
    return;
  }
  try {
    await controller.deleteProject(project.id);
    Notification.success(`Deleted ${project.name} from the cloud.`, { autoClose: 4000 });
  } catch (error) {
    fail(`Cannot delete ${project.name}`, error);
  }
}
