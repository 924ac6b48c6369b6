import { Notification } from '@jupyterlab/apputils';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import { ProjectsApi, errorMessage } from '../api';
import { ProjectsController } from '../controller';
import type { IOptions, Observable } from '../options';
import { wsUrl } from '../urls';
import { mergedSentence } from '../merges';
import { ProjectSocket } from '../ws';
import type { ConflictNotifier } from './conflicts';

/** The websocket URL, with the token when the server settings ask for it. */
export function socketUrl(settings: ServerConnection.ISettings): string {
  const url = wsUrl(settings.wsUrl);
  if (settings.appendToken && settings.token) {
    return `${url}?token=${encodeURIComponent(settings.token)}`;
  }
  return url;
}

/** The model and its connection: the websocket, and the controller over it and the REST
 * API, which follows the options and reports deletes applied and new conflicts. */
export function connect(options: {
  serverSettings: ServerConnection.ISettings;
  options: Observable<IOptions>;
  conflicts: ConflictNotifier;
  trans: TranslationBundle;
}): { socket: ProjectSocket; controller: ProjectsController } {
  const { serverSettings, conflicts, trans } = options;
  const settings = options.options;
  const socket = new ProjectSocket({
    url: () => socketUrl(serverSettings),
    createSocket: url => new serverSettings.WebSocket(url),
    maxDelay: settings.value.maxReconnectDelay * 1000,
    heartbeatInterval: settings.value.heartbeatInterval * 1000,
    trans
  });
  const controller = new ProjectsController({
    api: new ProjectsApi(serverSettings),
    socket,
    listCloudProjects: settings.value.showCloudProjects,
    errorMessage: error => errorMessage(error, trans),
    onDeletesApplied: message => {
      Notification.info(message.message, { autoClose: false });
    },
    onFileMerged: message => {
      Notification.info(mergedSentence(message, trans), { autoClose: 6000 });
    },
    onConflict: (conflict, project) => {
      if (settings.value.notifyOnConflict) {
        conflicts.add(conflict, project);
      }
    }
  });
  settings.subscribe(value => {
    controller.listCloudProjects = value.showCloudProjects;
  });
  // A browser back online tries the server again at once.
  window.addEventListener('online', () => controller.reconnect());
  return { socket, controller };
}
