import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import type { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import type { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ProjectsApi } from '../api';
import { FileHistory } from '../components/FileHistory';
import { Checkpoints, DeletedFiles } from '../components/ProjectHistory';
import type { ProjectsController } from '../controller';
import { baseName, projectOfPath } from '../history';
import type { IRenderers } from '../historyWidgets';
import { historyIcon } from '../icons';
import { CommandIDs } from '../panel';
import type { ILocalProject, ServerMessage } from '../types';

/** Opens the history views in the main area, one per file (or project and kind), reused
 * when opened again. */
export interface IHistoryOpener {
  openFile(project: ILocalProject, path: string): void;
  openDeleted(project: ILocalProject): void;
  openCheckpoints(project: ILocalProject): void;
}

export interface IHistoryOptions {
  app: JupyterFrontEnd;
  rendermime: IRenderMimeRegistry | null;
  languages: IEditorLanguageRegistry | null;
  /** Opens a project file in an editor. */
  openInEditor: (project: ILocalProject, path: string) => void;
  /** The websocket's messages (to see a file's new revisions). */
  onMessage: (listener: (message: ServerMessage) => void) => () => void;
  trans: TranslationBundle;
}

let counter = 0;

/** The opener of the history views. */
export function createHistoryOpener(options: IHistoryOptions): IHistoryOpener {
  const { app, trans } = options;
  const api = new ProjectsApi(app.serviceManager.serverSettings);
  const renderers: IRenderers = { rendermime: options.rendermime, languages: options.languages };
  const open = new Map<string, MainAreaWidget>();

  const show = (key: string, label: string, caption: string, body: () => JSX.Element) => {
    const existing = open.get(key);
    if (existing && !existing.isDisposed) {
      app.shell.activateById(existing.id);
      return;
    }
    const content = ReactWidget.create(body());
    content.addClass('jp-pfb-historyContent');
    const widget = new MainAreaWidget({ content });
    widget.id = `jp-pfb-history-${++counter}`;
    widget.addClass('jp-pfb-historyWidget');
    widget.title.label = label;
    widget.title.caption = caption;
    widget.title.icon = historyIcon;
    widget.title.closable = true;
    widget.disposed.connect(() => open.delete(key));
    open.set(key, widget);
    app.shell.add(widget, 'main');
    app.shell.activateById(widget.id);
  };

  const opener: IHistoryOpener = {
    openFile: (project, path) =>
      show(
        `file:${project.id}:${path}`,
        trans.__('History: %1', baseName(path)),
        trans.__('History of %1 in %2', path, project.name),
        () => (
          <FileHistory
            api={api}
            project={project}
            path={path}
            renderers={renderers}
            openFile={() => options.openInEditor(project, path)}
            watch={changed =>
              options.onMessage(message => {
                if (
                  (message.type === 'file_merged' ||
                    (message.type === 'file_status' &&
                      (Boolean(message.revision) || message.state === 'deleted'))) &&
                  message.project_id === project.id &&
                  message.path === path
                ) {
                  changed();
                }
              })
            }
            trans={trans}
          />
        )
      ),
    openDeleted: project =>
      show(
        `deleted:${project.id}`,
        trans.__('Deleted: %1', project.name),
        trans.__('Deleted files of %1', project.name),
        () => (
          <DeletedFiles
            api={api}
            project={project}
            openHistory={path => opener.openFile(project, path)}
            trans={trans}
          />
        )
      ),
    openCheckpoints: project =>
      show(
        `checkpoints:${project.id}`,
        trans.__('Checkpoints: %1', project.name),
        trans.__('Checkpoints of %1', project.name),
        () => (
          <Checkpoints
            api={api}
            project={project}
            openHistory={path => opener.openFile(project, path)}
            trans={trans}
          />
        )
      )
  };
  return opener;
}

/** The "History…" command: of `{projectId, path}`, or else of the file selected in
 * JupyterLab's file browser when it is inside a linked project; on the file browser's
 * context menu for files. */
export function addHistoryCommand(options: {
  app: JupyterFrontEnd;
  controller: ProjectsController;
  opener: IHistoryOpener;
  browsers: IFileBrowserFactory | null;
  trans: TranslationBundle;
}): void {
  const { app, controller, opener, browsers, trans } = options;
  const target = (args: Record<string, unknown>) => {
    const projects = controller.state.projects;
    if (typeof args.projectId === 'string' && typeof args.path === 'string') {
      const project = projects[args.projectId];
      return project ? { project, path: args.path } : null;
    }
    const browser = browsers?.tracker.currentWidget;
    const item = browser?.selectedItems().next();
    const model = item && !item.done ? item.value : undefined;
    if (!model || model.type === 'directory') {
      return null;
    }
    return projectOfPath(Object.values(projects), model.path);
  };
  app.commands.addCommand(CommandIDs.history, {
    label: trans.__('History…'),
    caption: trans.__('Show the saved versions of this file, compare and restore them'),
    icon: historyIcon,
    isEnabled: args => target(args) !== null,
    isVisible: args => target(args) !== null,
    execute: args => {
      const found = target(args);
      if (found) {
        opener.openFile(found.project, found.path);
      }
    },
    describedBy: {
      args: {
        type: 'object',
        properties: {
          projectId: { type: 'string', description: trans.__('The linked project') },
          path: { type: 'string', description: trans.__('The file path inside the project') }
        }
      }
    }
  });
  app.contextMenu.addItem({
    command: CommandIDs.history,
    selector: '.jp-DirListing-item[data-isdir="false"]',
    rank: 11.5 // after Download
  });
}
