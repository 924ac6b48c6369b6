import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { ProjectsController } from '../controller';
import { OpenDocuments } from '../documents';
import type { ProjectSocket } from '../ws';
import type { ConflictNotifier } from './conflicts';

/** Open documents follow the cloud: reload when clean, ask when edited. */
export function followDocuments(options: {
  docManager: IDocumentManager;
  serverSettings: ServerConnection.ISettings;
  controller: ProjectsController;
  socket: ProjectSocket;
  conflicts: ConflictNotifier;
  trans: TranslationBundle;
}): OpenDocuments {
  const { controller, socket, conflicts } = options;
  return new OpenDocuments({
    docManager: options.docManager,
    serverSettings: options.serverSettings,
    trans: options.trans,
    projects: () => controller.state.projects,
    onMessage: listener => socket.onMessage(listener),
    // The document's own notification names the copy it kept.
    onCopyKept: conflict => conflicts.skip(conflict.id)
  });
}
