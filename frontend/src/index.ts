import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { getStatus } from './api';

/**
 * The project-filebrowser plugin. For now it checks that the server extension
 * answers and logs its version; the sidebar comes later.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'project-filebrowser:plugin',
  description:
    'Keep project folders in two-way sync with a cloud Projects service.',
  autoStart: true,
  activate: (app: JupyterFrontEnd): void => {
    console.log('project-filebrowser: activated');
    getStatus(app.serviceManager.serverSettings)
      .then(status => {
        console.log(
          `project-filebrowser: server extension version ${status.version}`
        );
      })
      .catch(reason => {
        console.error(
          `project-filebrowser: GET project-filebrowser/api/status failed: ${reason}`
        );
      });
  }
};

export default plugin;
