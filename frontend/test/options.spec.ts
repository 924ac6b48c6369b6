import { describe, expect, it, vi } from 'vitest';

import { sentence } from '../src/api';
import { nameProblem } from '../src/names';
import { DEFAULT_OPTIONS, Observable, readOptions } from '../src/options';
import { trans } from './fixtures';

describe('readOptions', () => {
  it('fills defaults and ignores values of the wrong type', () => {
    expect(readOptions({})).toEqual(DEFAULT_OPTIONS);
    expect(readOptions({ showCloudProjects: 'yes', filesPageSize: 'many' })).toEqual(
      DEFAULT_OPTIONS
    );
  });

  it('keeps numbers in range', () => {
    const options = readOptions({ filesPageSize: 1, maxReconnectDelay: 1e9, heartbeatInterval: -5 });
    expect(options.filesPageSize).toBe(10);
    expect(options.maxReconnectDelay).toBe(600);
    expect(options.heartbeatInterval).toBe(0);
    expect(readOptions({ filesPageSize: 123.6 }).filesPageSize).toBe(124);
  });

  it('reads booleans', () => {
    expect(readOptions({ notifyOnConflict: false }).notifyOnConflict).toBe(false);
  });
});

describe('Observable', () => {
  it('tells listeners about new values only', () => {
    const value = new Observable(1);
    const listener = vi.fn();
    const stop = value.subscribe(listener);
    value.value = 1;
    value.value = 2;
    stop();
    value.value = 3;
    expect(listener.mock.calls).toEqual([[2]]);
    expect(value.value).toBe(3);
  });
});

describe('nameProblem', () => {
  it('accepts what the cloud accepts', () => {
    for (const name of ['demo', 'a', 'My Project 2', 'x.y-z_1', '_private', 'a'.repeat(128)]) {
      expect(nameProblem(name, trans), name).toBeNull();
    }
  });

  it('explains what it refuses', () => {
    expect(nameProblem('', trans)).toMatch(/required/);
    expect(nameProblem('a/b', trans)).toMatch(/cannot contain/);
    expect(nameProblem('a\\b', trans)).toMatch(/cannot contain/);
    expect(nameProblem('.hidden', trans)).toMatch(/cannot start/);
    expect(nameProblem('-x', trans)).toMatch(/cannot start/);
    expect(nameProblem(' x', trans)).toMatch(/cannot start/);
    expect(nameProblem('x.', trans)).toMatch(/cannot end/);
    expect(nameProblem('x ', trans)).toMatch(/cannot end/);
    expect(nameProblem('bad*name', trans)).toMatch(/letters, digits/);
    expect(nameProblem('a'.repeat(129), trans)).toMatch(/128/);
  });
});

describe('sentence', () => {
  it('capitalises and ends with a full stop', () => {
    expect(sentence("you already have a project named 'x'")).toBe(
      "You already have a project named 'x'."
    );
    expect(sentence('Done!')).toBe('Done!');
    expect(sentence('  ')).toBe('');
  });
});
