import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { addIcon, refreshIcon } from '@jupyterlab/ui-components';

import { ApiError, ProjectsApi, errorMessage } from './api';
import type { IPanelActions } from './components/actions';
import { CreateProjectBody, SubmitDialog } from './components/CreateDialog';
import { DeleteChoice, reviewDeletes } from './components/DeleteReview';
import { ProjectsController } from './controller';
import { OpenDocuments } from './documents';
import { ExpandedMemory } from './expanded';
import { syncIcon } from './icons';
import { offlineSentence, openConflicts } from './model';
import { DEFAULT_OPTIONS, IOptions, Observable, readOptions } from './options';
import { CommandIDs, PANEL_ID, createPanel, createStatusItem } from './panel';
import type { IConflict, IJob, ILocalProject } from './types';
import { wsUrl } from './urls';
import { ProjectSocket } from './ws';

const PLUGIN_ID = 'project-filebrowser:plugin';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The browser's localStorage, or null where it is not allowed. */
function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
const CATEGORY = 'Projects';

/** The websocket URL, with the token when the server settings ask for it. */
function socketUrl(settings: ServerConnection.ISettings): string {
  const url = wsUrl(settings.wsUrl);
  if (settings.appendToken && settings.token) {
    return `${url}?token=${encodeURIComponent(settings.token)}`;
  }
  return url;
}

/** Where new projects go: the parent folder most linked projects share, else `projects`. */
function projectsDir(projects: ILocalProject[]): string {
  const counts = new Map<string, number>();
  for (const project of projects) {
    const suffix = `/${project.name}`;
    if (project.local_path.endsWith(suffix)) {
      const dir = project.local_path.slice(0, -suffix.length);
      counts.set(dir, (counts.get(dir) ?? 0) + 1);
    }
  }
  let best = 'projects';
  let most = 0;
  for (const [dir, count] of counts) {
    if (count > most) {
      best = dir;
      most = count;
    }
  }
  return best;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'A Projects sidebar: browse, create, link and sync project folders with a cloud, live.',
  autoStart: true,
  optional: [
    ILayoutRestorer,
    ICommandPalette,
    IStatusBar,
    ISettingRegistry,
    IDocumentManager
  ],
  activate: async (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null,
    settingRegistry: ISettingRegistry | null,
    docManager: IDocumentManager | null
  ): Promise<void> => {
    const { commands, shell } = app;
    const serverSettings = app.serviceManager.serverSettings;

    // -- options -------------------------------------------------------------------------
    const options = new Observable<IOptions>(DEFAULT_OPTIONS);
    if (settingRegistry) {
      try {
        const settings = await settingRegistry.load(PLUGIN_ID);
        const apply = () => {
          options.value = readOptions(settings.composite as Record<string, unknown>);
        };
        apply();
        settings.changed.connect(apply);
      } catch (error) {
        console.warn('project-filebrowser: cannot load the settings; using defaults', error);
      }
    }

    // -- the model and its connection ----------------------------------------------------
    const socket = new ProjectSocket({
      url: () => socketUrl(serverSettings),
      createSocket: url => new serverSettings.WebSocket(url),
      maxDelay: options.value.maxReconnectDelay * 1000,
      heartbeatInterval: options.value.heartbeatInterval * 1000
    });
    const conflicts = new ConflictNotifier(commands);
    const controller = new ProjectsController({
      api: new ProjectsApi(serverSettings),
      socket,
      listCloudProjects: options.value.showCloudProjects,
      errorMessage,
      onDeletesApplied: message => {
        Notification.info(message.message, { autoClose: false });
      },
      onConflict: (conflict, project) => {
        if (options.value.notifyOnConflict) {
          conflicts.add(conflict, project);
        }
      }
    });
    options.subscribe(value => {
      controller.listCloudProjects = value.showCloudProjects;
    });
    // What is open (projects, folders of their file trees) survives a reload.
    const memory = new ExpandedMemory(
      browserStorage(),
      `project-filebrowser:expanded:${PageConfig.getBaseUrl()}`
    );
    let restored = false;
    controller.store.subscribe(state => {
      if (!restored) {
        if (state.projectsStatus !== 'loaded') {
          return;
        }
        restored = true;
        for (const id of memory.projects()) {
          if (id in state.projects) {
            controller.expand(id, true);
          }
        }
        memory.keepFoldersOf(Object.keys(state.projects));
        return;
      }
      memory.setProjects(Object.keys(state.expanded).filter(id => state.expanded[id]));
    });
    if (docManager) {
      // Open documents follow the cloud: reload when clean, ask when edited.
      new OpenDocuments({
        docManager,
        serverSettings,
        projects: () => controller.state.projects,
        onMessage: listener => socket.onMessage(listener),
        onCopyKept: conflict => conflicts.skip(conflict.id)
      });
    }
    const onOnline = () => controller.reconnect();
    window.addEventListener('online', onOnline);

    // -- what the views ask of the app -----------------------------------------------------
    const fail = (what: string, error: unknown) => {
      Notification.error(`${what}: ${errorMessage(error)}`, { autoClose: 8000 });
    };
    /** A sync the user asked for failed on an unreachable cloud: say so, and what waits. */
    const tellIfOffline = (job: IJob) => {
      void controller.whenFinished(job.id).then(finished => {
        const project = controller.state.projects[finished.project_id];
        if (finished.state === 'failed' && project?.status === 'offline') {
          Notification.warning(`${project.name}: ${offlineSentence(project)}`, {
            autoClose: 8000
          });
        }
      });
    };
    const actions: IPanelActions = {
      createProject: () => void commands.execute(CommandIDs.create),
      syncAll: () => void commands.execute(CommandIDs.syncAll),
      link: async project => {
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
      },
      unlink: async project => {
        if (options.value.confirmUnlink) {
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
          tellIfOffline(await controller.sync(project.id));
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
      deleteProject: async project => {
        let files: number | undefined = controller.state.cloud.items.find(
          p => p.id === project.id
        )?.file_count;
        if (files === undefined) {
          try {
            files = (await controller.api.cloudProjects()).find(p => p.id === project.id)
              ?.file_count;
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
      },
      folders: memory,
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

    // -- the panel -----------------------------------------------------------------------
    const panel = createPanel({ controller, options, actions, commands });
    shell.add(panel, 'left', { rank: 150 });
    if (restorer) {
      restorer.add(panel, 'project-filebrowser');
    }
    const openPanel = (projectId?: string) => {
      shell.activateById(PANEL_ID);
      if (projectId && controller.state.projects[projectId]) {
        controller.expand(projectId, true);
        requestAnimationFrame(() => {
          panel.node
            .querySelector(`[data-project-id="${CSS.escape(projectId)}"]`)
            ?.scrollIntoView({ block: 'nearest' });
        });
      }
    };

    // -- commands ------------------------------------------------------------------------
    const online = () => controller.state.connection.state === 'online';
    commands.addCommand(CommandIDs.open, {
      label: 'Open the Projects Panel',
      caption: 'Show the Projects sidebar',
      execute: args => openPanel(typeof args.projectId === 'string' ? args.projectId : undefined),
      describedBy: {
        args: {
          type: 'object',
          properties: { projectId: { type: 'string', description: 'A project to open' } }
        }
      }
    });
    commands.addCommand(CommandIDs.create, {
      label: args => (args.toolbar ? '' : 'New Project…'),
      caption: 'Create a project in the cloud and link it to a folder here',
      icon: args => (args.toolbar ? addIcon : undefined),
      isEnabled: online,
      execute: async () => {
        const created = await createProjectDialog(controller);
        if (created) {
          openPanel(created.id);
        }
      }
    });
    commands.addCommand(CommandIDs.syncAll, {
      label: args => (args.toolbar ? '' : 'Sync All Projects'),
      caption: 'Sync every linked project now',
      icon: args => (args.toolbar ? syncIcon : undefined),
      isEnabled: () => online() && Object.keys(controller.state.projects).length > 0,
      execute: async () => {
        const { jobs, failures } = await controller.syncAll();
        jobs.forEach(tellIfOffline);
        for (const { project, error } of failures) {
          Notification.error(`Cannot sync ${project.name}: ${error}`, { autoClose: 8000 });
        }
      }
    });
    commands.addCommand(CommandIDs.sync, {
      label: args => {
        const project = controller.state.projects[String(args.projectId ?? '')];
        return project ? `Sync ${project.name}` : 'Sync Project';
      },
      caption: 'Sync one linked project now',
      isEnabled: args => online() && String(args.projectId ?? '') in controller.state.projects,
      execute: async args => {
        const project = controller.state.projects[String(args.projectId ?? '')];
        if (project) {
          await actions.sync(project);
        }
      },
      describedBy: {
        args: {
          type: 'object',
          properties: { projectId: { type: 'string', description: 'The project to sync' } },
          required: ['projectId']
        }
      }
    });
    commands.addCommand(CommandIDs.refresh, {
      label: args => (args.toolbar ? '' : 'Refresh the Project Lists'),
      caption: 'Fetch the project lists, conflicts and open file lists again',
      icon: args => (args.toolbar ? refreshIcon : undefined),
      execute: async () => {
        if (!online()) {
          controller.reconnect();
          return;
        }
        const loads: Promise<void>[] = [
          controller.loadProjects(),
          controller.loadConflicts(),
          controller.loadJobs()
        ];
        if (controller.listCloudProjects) {
          loads.push(controller.loadCloudProjects());
        }
        for (const id of Object.keys(controller.state.files)) {
          loads.push(controller.loadFiles(id));
        }
        await Promise.all(loads);
      }
    });
    commands.addCommand(CommandIDs.reconnect, {
      label: 'Reconnect the Projects Panel',
      caption: 'Try to reach the server again now',
      isEnabled: () => controller.state.connection.state === 'offline',
      execute: () => controller.reconnect()
    });
    commands.addCommand(CommandIDs.showConflicts, {
      label: 'Show Project Conflicts',
      caption: 'Open the Projects panel at the projects with conflicts',
      execute: () => {
        const ids = new Set(openConflicts(controller.state).map(c => c.project_id));
        for (const project of Object.values(controller.state.projects)) {
          if (project.conflicts > 0) {
            ids.add(project.id);
          }
        }
        shell.activateById(PANEL_ID);
        for (const id of ids) {
          controller.expand(id, true);
        }
      }
    });
    // Command states follow the connection and the project list.
    controller.store.subscribe(() => commands.notifyCommandChanged());

    if (palette) {
      for (const command of [
        CommandIDs.open,
        CommandIDs.create,
        CommandIDs.syncAll,
        CommandIDs.refresh,
        CommandIDs.reconnect,
        CommandIDs.showConflicts
      ]) {
        palette.addItem({ command, category: CATEGORY });
      }
    }

    // -- status bar ----------------------------------------------------------------------
    if (statusBar) {
      statusBar.registerStatusItem('project-filebrowser:status', {
        item: createStatusItem(controller, () => openPanel()),
        align: 'left',
        rank: 4
      });
    }

    controller.start();
  }
};

/** The create dialog; resolves with the project, or null when cancelled. */
async function createProjectDialog(
  controller: ProjectsController
): Promise<ILocalProject | null> {
  const dir = projectsDir(Object.values(controller.state.projects));
  const body = new CreateProjectBody(dir);
  let created: ILocalProject | null = null;
  const dialog = new SubmitDialog<unknown>(
    {
      title: 'New project',
      body,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Create' })],
      focusNodeSelector: '#jp-pfb-create-name'
    },
    async () => {
      if (!body.validate()) {
        return false;
      }
      body.busy = true;
      try {
        created = await controller.createProject(body.getValue());
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.code === 'folder_not_empty') {
          const files = Number(error.details.files ?? 0);
          const folder = String(error.details.folder ?? `${dir}/${body.getValue().name}`);
          body.askAdopt(folder, files);
          return false;
        }
        if (error instanceof ApiError && error.code === 'folder_in_use') {
          const { name } = body.getValue();
          body.setError(
            `The folder ${dir}/${name} is already used by a linked project; choose another name.`
          );
        } else {
          body.setError(errorMessage(error));
        }
        return false;
      } finally {
        body.busy = false;
      }
    }
  );
  body.onAdopt = () => dialog.resolve();
  dialog.addClass('jp-pfb-createDialog');
  await dialog.launch();
  return created;
}

/**
 * Notifications for new conflicts, batched: a sync that finds ten conflicts shows one
 * notification, not ten.
 */
class ConflictNotifier {
  constructor(private _commands: { execute(id: string, args?: Record<string, string>): Promise<unknown> }) {}

  add(conflict: IConflict, project: ILocalProject | undefined): void {
    if (this._skipped.has(conflict.id)) {
      return;
    }
    this._batch.push({ conflict, project });
    if (this._timer === null) {
      this._timer = setTimeout(() => this._flush(), 400);
    }
  }

  /** A conflict copy kept on the user's own choice: whoever asked for it says so. */
  skip(conflictId: number): void {
    this._skipped.add(conflictId);
    this._batch = this._batch.filter(b => b.conflict.id !== conflictId);
  }

  private _flush(): void {
    this._timer = null;
    const batch = this._batch.splice(0);
    if (batch.length === 0) {
      return;
    }
    const names = [...new Set(batch.map(b => b.project?.name ?? b.conflict.project_id))];
    const first = batch[0];
    const { path, conflict_path: copy } = first.conflict;
    const single =
      first.conflict.made_here === false
        ? `Conflict in ${names[0]}: ${path} was changed on two machines. Both versions are kept: the other edit is ${copy}.`
        : `Conflict in ${names[0]}: ${path} changed here and in the cloud. Your version is kept as ${copy}.`;
    const message =
      batch.length === 1
        ? single
        : `${batch.length} conflicts in ${names.join(', ')}: files changed in two places. Both versions of each are kept, one as a conflict copy.`;
    Notification.warning(message, {
      autoClose: 10000,
      actions: [
        {
          label: 'Review',
          caption: 'Open the conflicts in the Projects panel',
          callback: () => {
            void this._commands.execute(CommandIDs.showConflicts);
          }
        }
      ]
    });
  }

  private _batch: { conflict: IConflict; project: ILocalProject | undefined }[] = [];
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _skipped = new Set<number>();
}

export default plugin;
