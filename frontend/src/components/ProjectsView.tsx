import {
  Button,
  deleteIcon,
  FilterBox,
  linkIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import type { ProjectsController } from '../controller';
import { cloudIcon, projectsIcon } from '../icons';
import { filterEntries, queryWords } from '../filetree';
import {
  fileList,
  formatBytes,
  formatDelay,
  matchesQuery,
  sortedProjects,
  unlinkedCloudProjects
} from '../model';
import type { IOptions, Observable } from '../options';
import type { ICloudProject } from '../types';
import type { IPanelActions } from './actions';
import { useNow, useObservable, useStoreState } from './hooks';
import { ProjectItem } from './ProjectItem';

export interface IProjectsViewProps {
  controller: ProjectsController;
  options: Observable<IOptions>;
  actions: IPanelActions;
}

/** The body of the Projects panel. */
export function ProjectsView(props: IProjectsViewProps): JSX.Element {
  const { controller, actions } = props;
  const state = useStoreState(controller.store);
  const options = useObservable(props.options);
  const [query, setQuery] = React.useState('');
  const online = state.connection.state === 'online';

  const linked = React.useMemo(() => sortedProjects(state), [state.projects]);
  const filtering = queryWords(query).length > 0;
  // The filter matches projects (name, title, description, folder) and their files.
  const fileMatches = (projectId: string): number =>
    filtering ? filterEntries(fileList(state, projectId), query).length : 0;
  const shown = linked.filter(
    project => matchesQuery(project, query) || fileMatches(project.id) > 0
  );
  React.useEffect(() => {
    if (filtering) {
      for (const project of linked) {
        if (state.files[project.id] === undefined) {
          void controller.loadFiles(project.id); // so the filter can look at the files
        }
      }
    }
  }, [filtering, linked]);
  const cloud = React.useMemo(() => unlinkedCloudProjects(state), [state.cloud, state.projects]);
  const cloudShown = cloud.filter(project => matchesQuery(project, query));

  let linkedBody: React.ReactNode;
  if (linked.length === 0) {
    if (state.projectsStatus === 'loaded' && state.cloud.status === 'error') {
      // nothing linked and the cloud refuses (a wrong token) or is unreachable: say why
      linkedBody = (
        <div className="jp-pfb-empty jp-pfb-mod-error" role="alert" data-reason="cloud">
          The cloud cannot be used: {state.cloud.error}
        </div>
      );
    } else if (state.projectsStatus === 'error') {
      linkedBody = (
        <div className="jp-pfb-empty jp-pfb-mod-error" role="alert">
          Cannot load the projects: {state.projectsError}
          <div>
            <Button small onClick={() => void controller.loadProjects()}>
              Retry
            </Button>
          </div>
        </div>
      );
    } else if (state.projectsStatus !== 'loaded') {
      linkedBody = (
        <div className="jp-pfb-empty" aria-busy="true">
          Loading projects…
        </div>
      );
    } else {
      linkedBody = (
        <div className="jp-pfb-empty jp-pfb-mod-welcome">
          <projectsIcon.react tag="div" className="jp-pfb-emptyIcon" />
          <p>No projects yet — create one.</p>
          <p className="jp-pfb-hint">
            A project is a folder kept in sync with the cloud, file by file, both ways.
          </p>
          <button
            className="jp-mod-styled jp-mod-accept jp-pfb-primary"
            onClick={() => actions.createProject()}
            disabled={!online}
          >
            New project
          </button>
        </div>
      );
    }
  } else if (shown.length === 0) {
    linkedBody = (
      <div className="jp-pfb-empty jp-pfb-mod-small">No linked project matches “{query}”.</div>
    );
  } else {
    linkedBody = (
      <ul className="jp-pfb-projectList" aria-label="Linked projects">
        {shown.map(project => (
          <ProjectItem
            key={project.id}
            project={project}
            state={state}
            online={online}
            expanded={Boolean(state.expanded[project.id]) || fileMatches(project.id) > 0}
            onToggle={expanded => controller.expand(project.id, expanded)}
            onLoadFiles={() => void controller.loadFiles(project.id)}
            actions={actions}
            showIgnored={options.showIgnoredFiles}
            pageSize={options.filesPageSize}
            fileQuery={fileMatches(project.id) > 0 ? query : ''}
          />
        ))}
      </ul>
    );
  }

  return (
    <div className="jp-pfb-view">
      <ConnectionBanner controller={controller} />
      {state.lastError && (
        <div className="jp-pfb-banner jp-pfb-mod-error" role="alert">
          <span>{state.lastError.message}</span>
          <Button
            small
            minimal
            onClick={() => controller.store.dispatch({ type: 'error/dismiss' })}
          >
            Dismiss
          </Button>
        </div>
      )}
      <div className="jp-pfb-search">
        <FilterBox
          placeholder="Filter projects and files"
          updateFilter={(_filter, value) => setQuery(value ?? '')}
          useFuzzyFilter={false}
          caseSensitive={false}
        />
      </div>
      <div className="jp-pfb-scroll">
        <section className="jp-pfb-section" aria-labelledby="jp-pfb-linked-header">
          <h3 className="jp-pfb-sectionHeader" id="jp-pfb-linked-header">
            Linked here
            {linked.length > 0 && (
              <span className="jp-pfb-count">
                {filtering ? `${shown.length} of ${linked.length}` : linked.length}
              </span>
            )}
          </h3>
          {linkedBody}
        </section>
        {options.showCloudProjects && (
          <CloudSection
            controller={controller}
            items={cloudShown}
            total={cloud.length}
            query={query}
            online={online}
            actions={actions}
          />
        )}
      </div>
    </div>
  );
}

/** Offline / connecting state of the websocket, with a way to retry now. */
function ConnectionBanner(props: { controller: ProjectsController }): JSX.Element | null {
  const { controller } = props;
  const { connection } = useStoreState(controller.store);
  const offline = connection.state === 'offline';
  const now = useNow(offline);
  if (connection.state === 'online') {
    return null;
  }
  if (connection.state === 'connecting' && !connection.everConnected && connection.attempt === 0) {
    return null; // the first connect is quick; the lists say "Loading…"
  }
  let text: string;
  if (connection.state === 'connecting') {
    text = 'Connecting…';
  } else if (connection.retryAt !== null) {
    const delay = formatDelay(connection.retryAt - now);
    text = delay === 'now' ? 'Connecting…' : `Retrying ${delay}.`;
  } else {
    text = '';
  }
  return (
    <div
      className="jp-pfb-banner jp-pfb-mod-offline"
      role="status"
      data-connection={connection.state}
    >
      <span title={connection.error ?? undefined}>
        <strong>Offline</strong> — the Jupyter server cannot be reached. {text}
      </span>
      <Button
        small
        minimal
        disabled={connection.state === 'connecting'}
        onClick={() => controller.reconnect()}
      >
        Reconnect now
      </Button>
    </div>
  );
}

interface ICloudSectionProps {
  controller: ProjectsController;
  items: ICloudProject[];
  total: number;
  query: string;
  online: boolean;
  actions: IPanelActions;
}

/** Cloud projects not linked here, each with a Link action. */
function CloudSection(props: ICloudSectionProps): JSX.Element {
  const { controller, items, total, online, actions } = props;
  const { cloud } = useStoreState(controller.store);
  let body: React.ReactNode;
  if (cloud.status === 'error') {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small jp-pfb-mod-error" role="alert">
        Cannot list the cloud's projects: {cloud.error}{' '}
        <Button small minimal onClick={() => void controller.loadCloudProjects()}>
          Retry
        </Button>
      </div>
    );
  } else if (cloud.status !== 'loaded' && total === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small" aria-busy="true">
        Loading the cloud's projects…
      </div>
    );
  } else if (total === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small">
        Every project of yours in the cloud is linked here.
      </div>
    );
  } else if (items.length === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small">
        No cloud project matches “{props.query}”.
      </div>
    );
  } else {
    body = (
      <ul className="jp-pfb-cloudList" aria-label="Cloud projects not linked here">
        {items.map(project => (
          <CloudItem key={project.id} project={project} online={online} actions={actions} />
        ))}
      </ul>
    );
  }
  return (
    <section className="jp-pfb-section" aria-labelledby="jp-pfb-cloud-header">
      <h3 className="jp-pfb-sectionHeader" id="jp-pfb-cloud-header">
        In the cloud, not linked
        {total > 0 && <span className="jp-pfb-count">{total}</span>}
      </h3>
      {body}
    </section>
  );
}

function CloudItem(props: {
  project: ICloudProject;
  online: boolean;
  actions: IPanelActions;
}): JSX.Element {
  const { project, actions } = props;
  const [busy, setBusy] = React.useState(false);
  const label = project.title && project.title !== project.name ? project.title : project.name;
  const details = `${project.file_count} file${project.file_count === 1 ? '' : 's'} · ${formatBytes(project.size_bytes)}`;
  return (
    <li className="jp-pfb-cloudProject" data-project-id={project.id} data-project-name={project.name}>
      <cloudIcon.react tag="span" className="jp-pfb-cloudIcon" />
      <span
        className="jp-pfb-cloudText"
        title={[project.description || label, `Owner: ${project.owner}`, details].join('\n')}
      >
        <span className="jp-pfb-projectName">{label}</span>
        <span className="jp-pfb-projectSub">{details}</span>
      </span>
      <Button
        small
        minimal
        className="jp-pfb-linkButton"
        disabled={!props.online || busy}
        title={`Link ${project.name}: pull it into a folder here and keep it in sync`}
        aria-label={`Link ${project.name}`}
        onClick={() => {
          setBusy(true);
          actions.link(project).finally(() => setBusy(false));
        }}
      >
        <linkIcon.react tag="span" className="jp-pfb-buttonIcon" />
        {busy ? 'Linking…' : 'Link'}
      </Button>
      <ToolbarButtonComponent
        icon={deleteIcon}
        className="jp-pfb-deleteButton"
        tooltip={`Delete ${project.name} from the cloud, for everyone (asks first)`}
        enabled={props.online && !busy}
        onClick={() => {
          setBusy(true);
          actions.deleteProject(project).finally(() => setBusy(false));
        }}
      />
    </li>
  );
}
