import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { formatBytes } from '../status';
import type { ILocalProject, ISyncPlan } from '../types';

/** What the user chose in the review of a paused mass delete. */
export type DeleteChoice = 'delete' | 'restore' | null;

const LISTED = 200;

/** The files a paused sync would delete, from its dry run, as the review lists them. */
export function DeleteList(props: {
  plan: ISyncPlan;
  project: ILocalProject;
  trans: TranslationBundle;
}): JSX.Element {
  const { plan, project, trans } = props;
  const side = plan.guard?.side ?? 'remote';
  const action = side === 'remote' ? 'delete_remote' : 'delete_local';
  const deletes = plan.steps.filter(step => step.action === action);
  const bytes = deletes.reduce((sum, step) => sum + step.size, 0);
  if (deletes.length === 0) {
    return (
      <div className="jp-pfb-deleteReview">
        <p>{plan.guard?.message ?? trans.__('A sync of %1 would delete nothing now.', project.name)}</p>
      </div>
    );
  }
  return (
    <div className="jp-pfb-deleteReview">
      <p>
        {side === 'remote'
          ? trans._n(
              '%1 file (%2) of %3 were deleted on this machine (in %4). Syncing would delete them in the cloud too, and on every machine that syncs this project.',
              '%1 files (%2) of %3 were deleted on this machine (in %4). Syncing would delete them in the cloud too, and on every machine that syncs this project.',
              deletes.length,
              formatBytes(bytes, trans),
              project.name,
              project.local_path
            )
          : trans._n(
              '%1 file (%2) of %3 were deleted in the cloud. Syncing would delete them on this machine too.',
              '%1 files (%2) of %3 were deleted in the cloud. Syncing would delete them on this machine too.',
              deletes.length,
              formatBytes(bytes, trans),
              project.name
            )}
      </p>
      <ul className="jp-pfb-deleteList" aria-label={trans.__('Files that would be deleted')}>
        {deletes.slice(0, LISTED).map(step => (
          <li key={step.path} className="jp-pfb-deleteItem" title={step.path}>
            {step.path}
          </li>
        ))}
      </ul>
      {deletes.length > LISTED && <p>{trans.__('and %1 more', deletes.length - LISTED)}</p>}
      <p className="jp-pfb-deleteNote">
        {trans.__("Deleted cloud files stay in the cloud's revision history.")}
      </p>
    </div>
  );
}

/** Ask what to do with the deletes a paused sync holds back, listing them. */
export async function reviewDeletes(
  project: ILocalProject,
  plan: ISyncPlan,
  trans: TranslationBundle
): Promise<DeleteChoice> {
  const remote = (plan.guard?.side ?? 'remote') === 'remote';
  const action = remote ? 'delete_remote' : 'delete_local';
  if (!plan.steps.some(step => step.action === action)) {
    const answer = await showDialog({
      title: trans.__('Nothing to delete in %1', project.name),
      body: <DeleteList plan={plan} project={project} trans={trans} />,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Sync') })]
    });
    return answer.button.accept ? 'delete' : null;
  }
  const restore = Dialog.okButton({
    label: trans.__('Restore them from the cloud'),
    caption: trans.__('Download the deleted files again; nothing is deleted')
  });
  const remove = Dialog.warnButton({
    label: remote ? trans.__('Delete in the cloud') : trans.__('Delete on this machine'),
    caption: remote
      ? trans.__('Delete these files in the cloud and on every machine')
      : trans.__('Delete these files here as they were in the cloud')
  });
  const answer = await showDialog({
    title: trans.__('Review the deletions in %1', project.name),
    body: <DeleteList plan={plan} project={project} trans={trans} />,
    buttons: remote ? [Dialog.cancelButton(), restore, remove] : [Dialog.cancelButton(), remove],
    defaultButton: 0
  });
  if (!answer.button.accept) {
    return null;
  }
  return answer.button.label === restore.label ? 'restore' : 'delete';
}
