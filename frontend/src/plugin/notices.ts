import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { errorMessage } from '../api';
import type { ProjectsController } from '../controller';
import { offlineSentence } from '../status';
import type { IJob } from '../types';

/** Say that what the user asked for failed (`what`, translated), and why. */
export function fail(what: string, error: unknown, trans: TranslationBundle): void {
  Notification.error(`${what}: ${errorMessage(error, trans)}`, { autoClose: 8000 });
}

/** A sync the user asked for failed on an unreachable cloud: say so, and what waits. */
export function tellIfOffline(
  controller: ProjectsController,
  job: IJob,
  trans: TranslationBundle
): void {
  void controller.whenFinished(job.id).then(finished => {
    const project = controller.state.projects[finished.project_id];
    if (finished.state === 'failed' && project?.status === 'offline') {
      Notification.warning(`${project.name}: ${offlineSentence(project, trans)}`, {
        autoClose: 8000
      });
    }
  });
}
