import type { ICommandPalette } from '@jupyterlab/apputils';
import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { addIcon, refreshIcon } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';

import type { IPanelActions } from '../components/actions';
import type { ProjectsController } from '../controller';
import { syncIcon } from '../icons';
import { openConflicts } from '../model';
import { CommandIDs, PANEL_ID } from '../panel';
import { createProjectDialog } from './createProject';
import { tellIfOffline } from './notices';
import type { OpenPanel } from './sidebar';

export interface ICommandsOptions {
  commands: CommandRegistry;
  /** Activates a widget of the shell by id. */
  activateById: (id: string) => void;
  controller: ProjectsController;
  actions: IPanelActions;
  openPanel: OpenPanel;
  trans: TranslationBundle;
}

/** The plugin's commands (panel toolbar, palette, the status bar's conflict review);
 * their states follow the connection and the project list. */
export function addCommands(options: ICommandsOptions): void {
  const { commands, controller, actions, openPanel, trans } = options;
  const online = () => controller.state.connection.state === 'online';
  commands.addCommand(CommandIDs.open, {
    label: trans.__('Open the Projects Panel'),
    caption: trans.__('Show the Projects sidebar'),
    execute: args => openPanel(typeof args.projectId === 'string' ? args.projectId : undefined),
    describedBy: {
      args: {
        type: 'object',
        properties: { projectId: { type: 'string', description: trans.__('A project to open') } }
      }
    }
  });
  commands.addCommand(CommandIDs.create, {
    label: args => (args.toolbar ? '' : trans.__('New Project…')),
    caption: trans.__('Create a project in the cloud and link it to a folder here'),
    icon: args => (args.toolbar ? addIcon : undefined),
    isEnabled: online,
    execute: async () => {
      const created = await createProjectDialog(controller, trans);
      if (created) {
        openPanel(created.id);
      }
    }
  });
  commands.addCommand(CommandIDs.syncAll, {
    label: args => (args.toolbar ? '' : trans.__('Sync All Projects')),
    caption: trans.__('Sync every linked project now'),
    icon: args => (args.toolbar ? syncIcon : undefined),
    isEnabled: () => online() && Object.keys(controller.state.projects).length > 0,
    execute: async () => {
      const { jobs, failures } = await controller.syncAll();
      jobs.forEach(job => tellIfOffline(controller, job, trans));
      for (const { project, error } of failures) {
        Notification.error(`${trans.__('Cannot sync %1', project.name)}: ${error}`, {
          autoClose: 8000
        });
      }
    }
  });
  commands.addCommand(CommandIDs.sync, {
    label: args => {
      const project = controller.state.projects[String(args.projectId ?? '')];
      return project ? trans.__('Sync %1', project.name) : trans.__('Sync Project');
    },
    caption: trans.__('Sync one linked project now'),
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
        properties: { projectId: { type: 'string', description: trans.__('The project to sync') } },
        required: ['projectId']
      }
    }
  });
  commands.addCommand(CommandIDs.refresh, {
    label: args => (args.toolbar ? '' : trans.__('Refresh the Project Lists')),
    caption: trans.__('Fetch the project lists, conflicts and open file lists again'),
    icon: args => (args.toolbar ? refreshIcon : undefined),
    execute: () => refresh(controller)
  });
  commands.addCommand(CommandIDs.reconnect, {
    label: trans.__('Reconnect the Projects Panel'),
    caption: trans.__('Try to reach the server again now'),
    isEnabled: () => controller.state.connection.state === 'offline',
    execute: () => controller.reconnect()
  });
  commands.addCommand(CommandIDs.showConflicts, {
    label: trans.__('Show Project Conflicts'),
    caption: trans.__('Open the Projects panel at the projects with conflicts'),
    execute: () => {
      const ids = new Set(openConflicts(controller.state).map(c => c.project_id));
      for (const project of Object.values(controller.state.projects)) {
        if (project.conflicts > 0) {
          ids.add(project.id);
        }
      }
      options.activateById(PANEL_ID);
      for (const id of ids) {
        controller.expand(id, true);
      }
    }
  });
  // Command states follow the connection and the project list.
  controller.store.subscribe(() => commands.notifyCommandChanged());
}

/** Fetch the project lists, conflicts, jobs and open file lists again; offline, try to
 * reconnect instead. */
async function refresh(controller: ProjectsController): Promise<void> {
  if (controller.state.connection.state !== 'online') {
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

/** The commands the palette lists, under "Projects". */
export function addToPalette(palette: ICommandPalette | null, trans: TranslationBundle): void {
  if (palette) {
    const category = trans.__('Projects');
    for (const command of [
      CommandIDs.open,
      CommandIDs.create,
      CommandIDs.syncAll,
      CommandIDs.refresh,
      CommandIDs.reconnect,
      CommandIDs.showConflicts
    ]) {
      palette.addItem({ command, category });
    }
  }
}
