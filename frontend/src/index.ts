import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { createActions } from './plugin/actions';
import { addCommands, addToPalette } from './plugin/commands';
import { ConflictNotifier } from './plugin/conflicts';
import { connect } from './plugin/connection';
import { followDocuments } from './plugin/documents';
import { IHistoryOpener, addHistoryCommand, createHistoryOpener } from './plugin/history';
import { rememberExpanded } from './plugin/memory';
import { loadOptions } from './plugin/settings';
import { addPanel, addStatusItem } from './plugin/sidebar';

const PLUGIN_ID = 'project-filebrowser:plugin';

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
    IDocumentManager,
    ITranslator,
    IRenderMimeRegistry,
    IEditorLanguageRegistry,
    IFileBrowserFactory
  ],
  activate: async (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null,
    settingRegistry: ISettingRegistry | null,
    docManager: IDocumentManager | null,
    translator: ITranslator | null,
    rendermime: IRenderMimeRegistry | null,
    languages: IEditorLanguageRegistry | null,
    browsers: IFileBrowserFactory | null
  ): Promise<void> => {
    const trans = (translator ?? nullTranslator).load('project_filebrowser');
    const { commands } = app;
    const serverSettings = app.serviceManager.serverSettings;
    const options = await loadOptions(PLUGIN_ID, settingRegistry);

    // The model and its connection; what the views ask of the app.
    const conflicts = new ConflictNotifier(commands, trans);
    const { socket, controller } = connect({ serverSettings, options, conflicts, trans });
    const memory = rememberExpanded(controller);
    if (docManager) {
      followDocuments({ docManager, serverSettings, controller, socket, conflicts, trans });
    }
    const history: { opener: IHistoryOpener | null } = { opener: null };
    const actions = createActions({
      controller,
      commands,
      options,
      memory,
      docManager,
      history,
      trans
    });
    history.opener = createHistoryOpener({
      app,
      rendermime,
      languages,
      openInEditor: actions.openFile,
      onMessage: listener => socket.onMessage(listener),
      trans
    });
    addHistoryCommand({ app, controller, opener: history.opener, browsers, trans });

    // The panel, the commands and the status bar item.
    const openPanel = addPanel({ app, restorer, controller, options, actions, trans });
    addCommands({
      commands,
      activateById: id => app.shell.activateById(id),
      controller,
      actions,
      openPanel,
      trans
    });
    addToPalette(palette, trans);
    addStatusItem(statusBar, controller, openPanel, trans);

    controller.start();
  }
};

export default plugin;
