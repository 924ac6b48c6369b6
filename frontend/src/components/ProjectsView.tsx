import type { TranslationBundle } from '@jupyterlab/translation';
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
import { fileList, matchesQuery, sortedProjects, unlinkedCloudProjects } from '../model';
import type { IOptions, Observable } from '../options';
import { formatBytes, formatDelay } from '../status';
import type { ICloudProject } from '../types';
import type { IPanelActions } from './actions';
import { useNow, useObservable, useStoreState } from './hooks';
import { ProjectItem } from './ProjectItem';

export interface IProjectsViewProps {
  controller: ProjectsController;
  options: Observable<IOptions>;
  actions: IPanelActions;
  trans: TranslationBundle;
}

/** The body of the Projects panel. */
export function ProjectsView(props: IProjectsViewProps): JSX.Element {
  const { controller, actions, trans } = props;
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
          {trans.__('The cloud cannot be used: %1', state.cloud.error ?? '')}
        </div>
      );
    } else if (state.projectsStatus === 'error') {
      linkedBody = (
        <div className="jp-pfb-empty jp-pfb-mod-error" role="alert">
          {trans.__('Cannot load the projects: %1', state.projectsError ?? '')}
          <div>
            <Button small onClick={() => void controller.loadProjects()}>
              {trans.__('Retry')}
            </Button>
          </div>
        </div>
      );
    } else if (state.projectsStatus !== 'loaded') {
      linkedBody = (
        <div className="jp-pfb-empty" aria-busy="true">
          {trans.__('Loading projects…')}
        </div>
      );
    } else {
      linkedBody = (
        <div className="jp-pfb-empty jp-pfb-mod-welcome">
          <projectsIcon.react tag="div" className="jp-pfb-emptyIcon" />
          <p>{trans.__('No projects yet — create one.')}</p>
          <p className="jp-pfb-hint">
            {trans.__(
              'A project is a folder kept in sync with the cloud, file by file, both ways.'
            )}
          </p>
          <button
            className="jp-mod-styled jp-mod-accept jp-pfb-primary"
            onClick={() => actions.createProject()}
            disabled={!online}
          >
            {trans.__('New project')}
          </button>
        </div>
      );
    }
  } else if (shown.length === 0) {
    linkedBody = (
      <div className="jp-pfb-empty jp-pfb-mod-small">
        {trans.__('No linked project matches “%1”.', query)}
      </div>
    );
  } else {
    linkedBody = (
      <ul className="jp-pfb-projectList" aria-label={trans.__('Linked projects')}>
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
            trans={trans}
          />
        ))}
      </ul>
    );
  }

  return (
    <div className="jp-pfb-view">
      <ConnectionBanner controller={controller} trans={trans} />
      {state.lastError && (
        <div className="jp-pfb-banner jp-pfb-mod-error" role="alert">
          <span>{state.lastError.message}</span>
          <Button
            small
            minimal
            onClick={() => controller.store.dispatch({ type: 'error/dismiss' })}
          >
            {trans.__('Dismiss')}
          </Button>
        </div>
      )}
      <div className="jp-pfb-search">
        <FilterBox
          placeholder={trans.__('Filter projects and files')}
          updateFilter={(_filter, value) => setQuery(value ?? '')}
          useFuzzyFilter={false}
          caseSensitive={false}
        />
      </div>
      <div className="jp-pfb-scroll">
        <section className="jp-pfb-section" aria-labelledby="jp-pfb-linked-header">
          <h3 className="jp-pfb-sectionHeader" id="jp-pfb-linked-header">
            {trans.__('Linked here')}
            {linked.length > 0 && (
              <span className="jp-pfb-count">
                {filtering ? trans.__('%1 of %2', shown.length, linked.length) : linked.length}
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
            trans={trans}
          />
        )}
      </div>
    </div>
  );
}

/** Offline / connecting state of the websocket, with a way to retry now. */
function ConnectionBanner(props: {
  controller: ProjectsController;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { controller, trans } = props;
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
    text = trans.__('Connecting…');
  } else if (connection.retryAt !== null) {
    const ms = connection.retryAt - now;
    // formatDelay says "now" under a second: the attempt is starting
    text = ms < 1000 ? trans.__('Connecting…') : trans.__('Retrying %1.', formatDelay(ms, trans));
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
        <strong>{trans.__('Offline')}</strong>{' '}
        {trans.__('— the Jupyter server cannot be reached.')} {text}
      </span>
      <Button
        small
        minimal
        disabled={connection.state === 'connecting'}
        onClick={() => controller.reconnect()}
      >
        {trans.__('Reconnect now')}
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
  trans: TranslationBundle;
}

/** Cloud projects not linked here, each with a Link action. */
function CloudSection(props: ICloudSectionProps): JSX.Element {
  const { controller, items, total, online, actions, trans } = props;
  const { cloud } = useStoreState(controller.store);
  let body: React.ReactNode;
  if (cloud.status === 'error') {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small jp-pfb-mod-error" role="alert">
        {trans.__("Cannot list the cloud's projects: %1", cloud.error ?? '')}{' '}
        <Button small minimal onClick={() => void controller.loadCloudProjects()}>
          {trans.__('Retry')}
        </Button>
      </div>
    );
  } else if (cloud.status !== 'loaded' && total === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small" aria-busy="true">
        {trans.__("Loading the cloud's projects…")}
      </div>
    );
  } else if (total === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small">
        {trans.__('Every project of yours in the cloud is linked here.')}
      </div>
    );
  } else if (items.length === 0) {
    body = (
      <div className="jp-pfb-empty jp-pfb-mod-small">
        {trans.__('No cloud project matches “%1”.', props.query)}
      </div>
    );
  } else {
    body = (
      <ul className="jp-pfb-cloudList" aria-label={trans.__('Cloud projects not linked here')}>
        {items.map(project => (
          <CloudItem
            key={project.id}
            project={project}
            online={online}
            actions={actions}
            trans={trans}
          />
        ))}
      </ul>
    );
  }
  return (
    <section className="jp-pfb-section" aria-labelledby="jp-pfb-cloud-header">
      <h3 className="jp-pfb-sectionHeader" id="jp-pfb-cloud-header">
        {trans.__('In the cloud, not linked')}
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
  trans: TranslationBundle;
}): JSX.Element {
  const { project, actions, trans } = props;
  const [busy, setBusy] = React.useState(false);
  const label = project.title && project.title !== project.name ? project.title : project.name;
  const details = trans._n(
    '%1 file · %2',
    '%1 files · %2',
    project.file_count,
    formatBytes(project.size_bytes, trans)
  );
  return (
    <li className="jp-pfb-cloudProject" data-project-id={project.id} data-project-name={project.name}>
      <cloudIcon.react tag="span" className="jp-pfb-cloudIcon" />
      <span
        className="jp-pfb-cloudText"
        title={[project.description || label, trans.__('Owner: %1', project.owner), details].join('\n')}
      >
        <span className="jp-pfb-projectName">{label}</span>
        <span className="jp-pfb-projectSub">{details}</span>
      </span>
      <Button
        small
        minimal
        className="jp-pfb-linkButton"
        disabled={!props.online || busy}
        title={trans.__('Link %1: pull it into a folder here and keep it in sync', project.name)}
        aria-label={trans.__('Link %1', project.name)}
        onClick={() => {
          setBusy(true);
          actions.link(project).finally(() => setBusy(false));
        }}
      >
        <linkIcon.react tag="span" className="jp-pfb-buttonIcon" />
        {busy ? trans.__('Linking…') : trans.__('Link')}
      </Button>
      <ToolbarButtonComponent
        icon={deleteIcon}
        className="jp-pfb-deleteButton"
        tooltip={trans.__('Delete %1 from the cloud, for everyone (asks first)', project.name)}
        enabled={props.online && !busy}
        onClick={() => {
          setBusy(true);
          actions.deleteProject(project).finally(() => setBusy(false));
        }}
      />
    </li>
  );
}
