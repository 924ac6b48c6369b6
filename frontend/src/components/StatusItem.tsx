import { TextItem } from '@jupyterlab/statusbar';
import * as React from 'react';

import type { ProjectsController } from '../controller';
import { projectsIcon } from '../icons';
import { overallStatus } from '../model';
import { useNow, useStoreState } from './hooks';

/** The status bar item: the overall sync state; a click opens the Projects panel. */
export function StatusItem(props: {
  controller: ProjectsController;
  onClick: () => void;
}): JSX.Element {
  const state = useStoreState(props.controller.store);
  // While offline, the tooltip counts down to the next attempt.
  useNow(state.connection.state === 'offline');
  const overall = overallStatus(state);
  return (
    <div
      className={`jp-pfb-statusItem jp-pfb-mod-${overall.kind}`}
      title={`Projects: ${overall.title}\nClick to open the Projects panel.`}
      data-status={overall.kind}
      onClick={props.onClick}
    >
      <projectsIcon.react tag="span" className="jp-pfb-statusIcon" />
      <TextItem source={overall.label} />
      {overall.progress !== null && (
        <span className="jp-pfb-statusProgress" aria-hidden="true">
          <span style={{ width: `${Math.round(overall.progress * 100)}%` }} />
        </span>
      )}
    </div>
  );
}
