import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import type { IStatusBar } from '@jupyterlab/statusbar';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IPanelActions } from '../components/actions';
import type { ProjectsController } from '../controller';
import type { IOptions, Observable } from '../options';
import { PANEL_ID, createPanel, createStatusItem } from '../panel';

/** Opens the Projects panel; with a linked project's id, expands and scrolls to it. */
export type OpenPanel = (projectId?: string) => void;

/** Add the Projects panel to the left area (restored with the layout); returns the
 * function that opens it. */
export function addPanel(options: {
  app: JupyterFrontEnd;
  restorer: ILayoutRestorer | null;
  controller: ProjectsController;
  options: Observable<IOptions>;
  actions: IPanelActions;
  trans: TranslationBundle;
}): OpenPanel {
  const { app, restorer, controller } = options;
  const panel = createPanel({
    controller,
    options: options.options,
    actions: options.actions,
    commands: app.commands,
    trans: options.trans
  });
  app.shell.add(panel, 'left', { rank: 150 });
  if (restorer) {
    restorer.add(panel, 'project-filebrowser');
  }
  return projectId => {
    app.shell.activateById(PANEL_ID);
    if (projectId && controller.state.projects[projectId]) {
      controller.expand(projectId, true);
      requestAnimationFrame(() => {
        panel.node
          .querySelector(`[data-project-id="${CSS.escape(projectId)}"]`)
          ?.scrollIntoView({ block: 'nearest' });
      });
    }
  };
}

/** The status bar item: the overall sync state; a click opens the panel. */
export function addStatusItem(
  statusBar: IStatusBar | null,
  controller: ProjectsController,
  openPanel: OpenPanel,
  trans: TranslationBundle
): void {
  if (statusBar) {
    statusBar.registerStatusItem('project-filebrowser:status', {
      item: createStatusItem(controller, () => openPanel(), trans),
      align: 'left',
      rank: 4
    });
  }
}
