import type { ISettingRegistry } from '@jupyterlab/settingregistry';

import { DEFAULT_OPTIONS, IOptions, Observable, readOptions } from '../options';

/** The plugin's settings as options that follow the Settings Editor; the defaults when
 * there is no setting registry or the settings cannot be loaded. */
export async function loadOptions(
  pluginId: string,
  settingRegistry: ISettingRegistry | null
): Promise<Observable<IOptions>> {
  const options = new Observable<IOptions>(DEFAULT_OPTIONS);
  if (settingRegistry) {
    try {
      const settings = await settingRegistry.load(pluginId);
      const apply = () => {
        options.value = readOptions(settings.composite as Record<string, unknown>);
      };
      apply();
      settings.changed.connect(apply);
    } catch (error) {
      console.warn('project-filebrowser: cannot load the settings; using defaults', error);
    }
  }
  return options;
}
