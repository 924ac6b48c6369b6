/**
 * The frontend options (the settings schema `schema/plugin.json`), with their defaults.
 */

export interface IOptions {
  /** List the cloud projects not linked here, each with a Link action. */
  showCloudProjects: boolean;
  /** Show a notification when a sync finds a conflict. */
  notifyOnConflict: boolean;
  /** Ask before unlinking a project. */
  confirmUnlink: boolean;
  /** List ignored files too. */
  showIgnoredFiles: boolean;
  /** How many files of a project are shown before "Show more". */
  filesPageSize: number;
  /** Longest wait between two reconnect attempts, in seconds. */
  maxReconnectDelay: number;
  /** Heartbeat period of the websocket, in seconds; 0 turns it off. */
  heartbeatInterval: number;
}

export const DEFAULT_OPTIONS: IOptions = {
  showCloudProjects: true,
  notifyOnConflict: true,
  confirmUnlink: true,
  showIgnoredFiles: false,
  filesPageSize: 200,
  maxReconnectDelay: 30,
  heartbeatInterval: 30
};

/** Options from a settings object, every value checked, defaults for the rest. */
export function readOptions(composite: Partial<Record<keyof IOptions, unknown>>): IOptions {
  const bool = (key: keyof IOptions): boolean => {
    const value = composite[key];
    return typeof value === 'boolean' ? value : (DEFAULT_OPTIONS[key] as boolean);
  };
  const num = (key: keyof IOptions, min: number, max: number): number => {
    const value = composite[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return DEFAULT_OPTIONS[key] as number;
    }
    return Math.min(max, Math.max(min, value));
  };
  return {
    showCloudProjects: bool('showCloudProjects'),
    notifyOnConflict: bool('notifyOnConflict'),
    confirmUnlink: bool('confirmUnlink'),
    showIgnoredFiles: bool('showIgnoredFiles'),
    filesPageSize: Math.round(num('filesPageSize', 10, 5000)),
    maxReconnectDelay: num('maxReconnectDelay', 1, 600),
    heartbeatInterval: num('heartbeatInterval', 0, 3600)
  };
}

/** A value that can change, with listeners (for React's useSyncExternalStore). */
export class Observable<T> {
  constructor(private _value: T) {}

  get value(): T {
    return this._value;
  }

  set value(value: T) {
    if (value === this._value) {
      return;
    }
    this._value = value;
    for (const listener of [...this._listeners]) {
      listener(value);
    }
  }

  subscribe = (listener: (value: T) => void): (() => void) => {
    this._listeners.add(listener);
    return () => {
      this._listeners.delete(listener);
    };
  };

  private _listeners = new Set<(value: T) => void>();
}
