import * as React from 'react';

import type { IState, Store } from '../model';
import type { Observable } from '../options';

/** The store's state; the component re-renders on every change. */
export function useStoreState(store: Store): IState {
  return React.useSyncExternalStore(
    React.useCallback(listener => store.subscribe(listener), [store]),
    () => store.state
  );
}

/** The value of an Observable; the component re-renders when it changes. */
export function useObservable<T>(observable: Observable<T>): T {
  return React.useSyncExternalStore(observable.subscribe, () => observable.value);
}

/** The current time, ticking every `period` ms while `active` (for countdowns only). */
export function useNow(active: boolean, period = 1000): number {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    if (!active) {
      return;
    }
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), period);
    return () => clearInterval(timer);
  }, [active, period]);
  return now;
}
