import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { formatBytes } from '../model';
import type { ILocalProject, ISyncPlan } from '../types';

/** What the user chose in the review of a paused mass delete. */
export type DeleteChoice = 'delete' | 'restore' | null;

const LISTED = 200;

/** The files a paused sync would delete, from its dry run, as the review lists them. */
export function DeleteList(props: { plan: ISyncPlan; project: ILocalProject }): JSX.Element {
  const { plan, project } = props;
  const side = plan.guard?.side ?? 'remote';
  const action = side === 'remote' ? 'delete_remote' : 'delete_local';
  const deletes = plan.steps.filter(step => step.action === action);
  const bytes = deletes.reduce((sum, step) => sum + step.size, 0);
  const count = `${deletes.length} file${deletes.length === 1 ? '' : 's'}`;
  if (deletes.length === 0) {
    return (
      <div className="jp-pfb-deleteReview">
        <p>{plan.guard?.message ?? `A sync of ${project.name} would delete nothing now.`}</p>
      </div>
    );
  }
  return (
    <div className="jp-pfb-deleteReview">
      <p>
        {side === 'remote'
          ? `${count} (${formatBytes(bytes)}) of ${project.name} were deleted on this machine (in ${project.local_path}). Syncing would delete them in the cloud too, and on every machine that syncs this project.`
          : `${count} (${formatBytes(bytes)}) of ${project.name} were deleted in the cloud. Syncing would delete them on this machine too.`}
      </p>
      <ul className="jp-pfb-deleteList" aria-label="Files that would be deleted">
        {deletes.slice(0, LISTED).map(step => (
          <li key={step.path} className="jp-pfb-deleteItem" title={step.path}>
            {step.path}
          </li>
        ))}
      </ul>
      {deletes.length > LISTED && <p>and {deletes.length - LISTED} more</p>}
      <p className="jp-pfb-deleteNote">
        Deleted cloud files stay in the cloud&apos;s revision history.
      </p>
    </div>
  );
}

/** Ask what to do with the deletes a paused sync holds back, listing them. */
export async function reviewDeletes(
  project: ILocalProject,
  plan: ISyncPlan
): Promise<DeleteChoice> {
  const remote = (plan.guard?.side ?? 'remote') === 'remote';
  const action = remote ? 'delete_remote' : 'delete_local';
  if (!plan.steps.some(step => step.action === action)) {
    const answer = await showDialog({
      title: `Nothing to delete in ${project.name}`,
      body: <DeleteList plan={plan} project={project} />,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Sync' })]
    });
    return answer.button.accept ? 'delete' : null;
  }
  const restore = Dialog.okButton({
    label: 'Restore them from the cloud',
    caption: 'Download the deleted files again; nothing is deleted'
  });
  const remove = Dialog.warnButton({
    label: remote ? 'Delete in the cloud' : 'Delete on this machine',
    caption: remote
      ? 'Delete these files in the cloud and on every machine'
      : 'Delete these files here as they were in the cloud'
  });
  const answer = await showDialog({
    title: `Review the deletions in ${project.name}`,
    body: <DeleteList plan={plan} project={project} />,
    buttons: remote ? [Dialog.cancelButton(), restore, remove] : [Dialog.cancelButton(), remove],
    defaultButton: 0
  });
  if (!answer.button.accept) {
    return null;
  }
  return answer.button.label === restore.label ? 'restore' : 'delete';
}
