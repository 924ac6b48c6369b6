import { Notification } from '@jupyterlab/apputils';

import { errorMessage } from '../api';
import type { ProjectsController } from '../controller';
import { offlineSentence } from '../model';
import type { IJob } from '../types';

/** Say that what the user asked for failed, and why. */
export function fail(what: string, error: unknown): void {
  Notification.error(`${what}: ${errorMessage(error)}`, { autoClose: 8000 });
}

/** A sync the user asked for failed on an unreachable cloud: say so, and what waits. */
export function tellIfOffline(controller: ProjectsController, job: IJob): void {
  void controller.whenFinished(job.id).then(finished => {
    const project = controller.state.projects[finished.project_id];
    if (finished.state === 'failed' && project?.status === 'offline') {
      Notification.warning(`${project.name}: ${offlineSentence(project)}`, {
        autoClose: 8000
      });
    }
  });
}
