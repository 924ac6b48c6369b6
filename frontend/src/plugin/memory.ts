import { PageConfig } from '@jupyterlab/coreutils';

import type { ProjectsController } from '../controller';
import { ExpandedMemory } from '../expanded';

/** The browser's localStorage, or null where it is not allowed. */
function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** What is open (projects, folders of their file trees) survives a reload: the projects
 * open last time open again once the list is loaded, and later changes are remembered. */
export function rememberExpanded(controller: ProjectsController): ExpandedMemory {
  const memory = new ExpandedMemory(
    browserStorage(),
    `project-filebrowser:expanded:${PageConfig.getBaseUrl()}`
  );
  let restored = false;
  controller.store.subscribe(state => {
    if (!restored) {
      if (state.projectsStatus !== 'loaded') {
        return;
      }
      restored = true;
      for (const id of memory.projects()) {
        if (id in state.projects) {
          controller.expand(id, true);
        }
      }
      memory.keepFoldersOf(Object.keys(state.projects));
      return;
    }
    memory.setProjects(Object.keys(state.expanded).filter(id => state.expanded[id]));
  });
  return memory;
}
