import { Dialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { ApiError, errorMessage } from '../api';
import { CreateProjectBody, SubmitDialog } from '../components/CreateDialog';
import type { ProjectsController } from '../controller';
import type { ILocalProject } from '../types';

/** Where new projects go: the parent folder most linked projects share, else `projects`. */
export function projectsDir(projects: ILocalProject[]): string {
  const counts = new Map<string, number>();
  for (const project of projects) {
    const suffix = `/${project.name}`;
    if (project.local_path.endsWith(suffix)) {
      const dir = project.local_path.slice(0, -suffix.length);
      counts.set(dir, (counts.get(dir) ?? 0) + 1);
    }
  }
  let best = 'projects';
  let most = 0;
  for (const [dir, count] of counts) {
    if (count > most) {
      best = dir;
      most = count;
    }
  }
  return best;
}

/** The create dialog; resolves with the project, or null when cancelled. */
export async function createProjectDialog(
  controller: ProjectsController,
  trans: TranslationBundle
): Promise<ILocalProject | null> {
  const dir = projectsDir(Object.values(controller.state.projects));
  const body = new CreateProjectBody(dir, trans);
  let created: ILocalProject | null = null;
  const dialog = new SubmitDialog<unknown>(
    {
      title: trans.__('New project'),
      body,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Create') })],
      focusNodeSelector: '#jp-pfb-create-name'
    },
    async () => {
      if (!body.validate()) {
        return false;
      }
      body.busy = true;
      try {
        created = await controller.createProject(body.getValue());
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.code === 'folder_not_empty') {
          const files = Number(error.details.files ?? 0);
          const folder = String(error.details.folder ?? `${dir}/${body.getValue().name}`);
          body.askAdopt(folder, files);
          return false;
        }
        if (error instanceof ApiError && error.code === 'folder_in_use') {
          const { name } = body.getValue();
          body.setError(
            trans.__(
              'The folder %1 is already used by a linked project; choose another name.',
              `${dir}/${name}`
            )
          );
        } else {
          body.setError(errorMessage(error, trans));
        }
        return false;
      } finally {
        body.busy = false;
      }
    }
  );
  body.onAdopt = () => dialog.resolve();
  dialog.addClass('jp-pfb-createDialog');
  await dialog.launch();
  return created;
}
