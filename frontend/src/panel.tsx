import type { TranslationBundle } from '@jupyterlab/translation';
import {
  CommandToolbarButton,
  ReactWidget,
  SidePanel
} from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import { Panel, Widget } from '@lumino/widgets';
import * as React from 'react';

import type { IPanelActions } from './components/actions';
import { ProjectsView } from './components/ProjectsView';
import { StatusItem } from './components/StatusItem';
import type { ProjectsController } from './controller';
import { projectsIcon } from './icons';
import type { IOptions, Observable } from './options';

export const PANEL_ID = 'project-filebrowser-panel';

/** The ids of the plugin's commands. */
export const CommandIDs = {
  open: 'project-filebrowser:open',
  create: 'project-filebrowser:create',
  syncAll: 'project-filebrowser:sync-all',
  sync: 'project-filebrowser:sync',
  refresh: 'project-filebrowser:refresh',
  reconnect: 'project-filebrowser:reconnect',
  showConflicts: 'project-filebrowser:show-conflicts',
  history: 'project-filebrowser:history'
} as const;

/** The Projects side panel: a header, a toolbar of commands and the React body. */
export function createPanel(options: {
  controller: ProjectsController;
  options: Observable<IOptions>;
  actions: IPanelActions;
  commands: CommandRegistry;
  trans: TranslationBundle;
}): SidePanel {
  const { trans } = options;
  const panel = new SidePanel({ content: new Panel() });
  panel.id = PANEL_ID;
  panel.addClass('jp-pfb-panel');
  panel.title.icon = projectsIcon;
  panel.title.caption = trans.__('Projects');

  const title = new Widget();
  const heading = document.createElement('h2');
  heading.textContent = trans.__('Projects');
  heading.classList.add('jp-text-truncated');
  title.node.appendChild(heading);
  panel.header.addWidget(title);

  const { commands } = options;
  for (const [name, id, label] of [
    ['create', CommandIDs.create, trans.__('New')],
    ['sync-all', CommandIDs.syncAll, undefined],
    ['refresh', CommandIDs.refresh, undefined]
  ] as const) {
    panel.toolbar.addItem(
      name,
      new CommandToolbarButton({ commands, id, label, args: { toolbar: true } })
    );
  }

  const body = ReactWidget.create(
    <ProjectsView
      controller={options.controller}
      options={options.options}
      actions={options.actions}
      trans={trans}
    />
  );
  body.addClass('jp-pfb-body');
  panel.addWidget(body);
  return panel;
}

/** The status bar item widget. */
export function createStatusItem(
  controller: ProjectsController,
  onClick: () => void,
  trans: TranslationBundle
): ReactWidget {
  const widget = ReactWidget.create(
    <StatusItem controller={controller} onClick={onClick} trans={trans} />
  );
  widget.addClass('jp-pfb-statusWidget');
  return widget;
}
