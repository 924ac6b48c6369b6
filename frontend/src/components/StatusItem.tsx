import { TextItem } from '@jupyterlab/statusbar';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { ProjectsController } from '../controller';
import { projectsIcon } from '../icons';
import { overallStatus } from '../status';
import { useNow, useStoreState } from './hooks';

/** The status bar item: the overall sync state; a click opens the Projects panel. */
export function StatusItem(props: {
  controller: ProjectsController;
  onClick: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const state = useStoreState(props.controller.store);
  // While offline, the tooltip counts down to the next attempt.
  useNow(state.connection.state === 'offline');
  const overall = overallStatus(state, trans);
  return (
    <div
      className={`jp-pfb-statusItem jp-pfb-mod-${overall.kind}`}
      title={trans.__('Projects: %1\nClick to open the Projects panel.', overall.title)}
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
