import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { ServerMessage } from '../src/types';
import {
  ISocketStatus,
  IWebSocketLike,
  ProjectSocket,
  SocketRequestError,
  backoffDelay
} from '../src/ws';

/** A socket the test drives: it records what is sent and plays the server's part. */
class FakeSocket implements IWebSocketLike {
  constructor(readonly url: string) {}
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  sent: Record<string, unknown>[] = [];
  closed: { code?: number; reason?: string } | null = null;

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }

  // -- the server's side --
  open(): void {
    this.readyState = 1;
    this.onopen?.({} as Event);
    this.receive({ type: 'hello', protocol: 1, version: '0.1.0' });
  }

  receive(message: ServerMessage | string): void {
    const data = typeof message === 'string' ? message : JSON.stringify(message);
    this.onmessage?.({ data } as MessageEvent);
  }

  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }

  /** Answer the last request with `reply` (its id added). */
  answer(reply: Record<string, unknown>): void {
    const request = this.sent[this.sent.length - 1];
    this.receive({ ...reply, id: request.id } as unknown as ServerMessage);
  }
}

let sockets: FakeSocket[];
let now: number;

function makeSocket(options: Partial<ConstructorParameters<typeof ProjectSocket>[0]> = {}) {
  return new ProjectSocket({
    url: () => 'ws://host/user/ann/project-filebrowser/ws',
    createSocket: url => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    random: () => 0,
    now: () => now,
    heartbeatInterval: 0,
    ...options
  });
}

const last = () => sockets[sockets.length - 1];

beforeEach(() => {
  sockets = [];
  now = 1_000_000;
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('backoffDelay', () => {
  it('doubles up to the cap', () => {
    expect([1, 2, 3, 4, 5, 10].map(a => backoffDelay(a, 500, 4000, 2))).toEqual([
      500, 1000, 2000, 4000, 4000, 4000
    ]);
  });
});

describe('ProjectSocket', () => {
  it('connects to the url and is open once the server says hello', () => {
    const socket = makeSocket();
    const statuses: ISocketStatus[] = [];
    socket.onStatus(status => statuses.push(status));
    socket.start();
    expect(last().url).toBe('ws://host/user/ann/project-filebrowser/ws');
    expect(socket.isOpen).toBe(false);
    last().open();
    expect(socket.isOpen).toBe(true);
    expect(statuses.map(s => s.state)).toEqual(['connecting', 'open']);
  });

  it('delivers every valid message and skips garbage', () => {
    const socket = makeSocket();
    const seen: string[] = [];
    socket.onMessage(message => seen.push(message.type));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    socket.start();
    last().open();
    last().receive('not json');
    last().receive('{"type": "mystery"}');
    last().receive('null');
    last().receive({ type: 'pong' });
    expect(seen).toEqual(['hello', 'pong']);
    expect(warn).toHaveBeenCalledTimes(3);
    warn.mockRestore();
  });

  it('resolves a request with the reply carrying its id', async () => {
    const socket = makeSocket();
    socket.start();
    last().open();
    const reply = socket.request({ type: 'sync', project_id: 'p1' });
    const sent = last().sent[0];
    expect(sent).toMatchObject({ type: 'sync', project_id: 'p1' });
    expect(typeof sent.id).toBe('string');
    // an event in between is not the reply
    last().receive({ type: 'pong' });
    last().receive({
      type: 'job_progress',
      id: sent.id as string,
      job: {
        id: 'j',
        project_id: 'p1',
        kind: 'sync',
        state: 'queued',
        files_done: 0,
        files_total: 0,
        bytes_done: 0,
        bytes_total: 0,
        error: null
      }
    });
    await expect(reply).resolves.toMatchObject({ type: 'job_progress', job: { id: 'j' } });
  });

  it('gives each request its own id', () => {
    const socket = makeSocket();
    socket.start();
    last().open();
    void socket.request({ type: 'ping' });
    void socket.request({ type: 'ping' });
    const [a, b] = last().sent;
    expect(a.id).not.toBe(b.id);
  });

  it('rejects a request the server answers with an error, with its code', async () => {
    const socket = makeSocket();
    socket.start();
    last().open();
    const reply = socket.request({ type: 'cancel', job_id: 'nope' });
    last().answer({ type: 'error', code: 'not_found', message: "job 'nope' does not exist" });
    await expect(reply).rejects.toMatchObject({
      name: 'SocketRequestError',
      code: 'not_found',
      message: "job 'nope' does not exist"
    });
  });

  it('rejects at once when not connected, and on close, and on timeout', async () => {
    const socket = makeSocket({ requestTimeout: 1000 });
    await expect(socket.request({ type: 'ping' })).rejects.toMatchObject({
      code: 'not_connected'
    });
    socket.start();
    last().open();
    const dropped = socket.request({ type: 'ping' });
    last().drop();
    await expect(dropped).rejects.toMatchObject({ code: 'closed' });

    vi.advanceTimersByTime(10_000);
    last().open();
    const slow = socket.request({ type: 'ping' });
    vi.advanceTimersByTime(1001);
    await expect(slow).rejects.toBeInstanceOf(SocketRequestError);
    await expect(slow).rejects.toMatchObject({ code: 'timeout' });
  });

  it('reconnects with exponential backoff and says when it retries', () => {
    const socket = makeSocket({ initialDelay: 500, maxDelay: 4000 });
    const statuses: ISocketStatus[] = [];
    socket.onStatus(status => statuses.push(status));
    socket.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      last().drop(1006);
      const status = socket.status;
      expect(status.state).toBe('closed');
      delays.push((status.retryAt ?? 0) - now);
      const before = sockets.length;
      vi.advanceTimersByTime((status.retryAt ?? 0) - now - 1);
      expect(sockets.length).toBe(before); // not yet
      vi.advanceTimersByTime(1);
      expect(sockets.length).toBe(before + 1);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);
    expect(statuses.find(s => s.state === 'closed')?.error).toContain('cannot reach the server');
  });

  it('adds jitter so that tabs do not reconnect in step', () => {
    const socket = makeSocket({ initialDelay: 1000, jitter: 0.5, random: () => 1 });
    socket.start();
    last().drop();
    expect((socket.status.retryAt ?? 0) - now).toBe(500);
  });

  it('starts the backoff afresh after a connection that stayed up', () => {
    const socket = makeSocket({ initialDelay: 500, stableAfter: 10_000 });
    socket.start();
    last().drop();
    vi.advanceTimersByTime(500);
    last().drop();
    expect(socket.status.attempt).toBe(2);
    vi.advanceTimersByTime(1000);
    last().open();
    now += 60_000; // up for a minute
    last().drop(1001, 'going away');
    expect(socket.status.attempt).toBe(1);
    expect((socket.status.retryAt ?? 0) - now).toBe(500);
    expect(socket.status.error).toBe('the connection closed (code 1001: going away)');
  });

  it('keeps growing the backoff when connections drop right after hello', () => {
    const socket = makeSocket({ initialDelay: 500, stableAfter: 10_000 });
    socket.start();
    last().open();
    last().drop();
    vi.advanceTimersByTime(500);
    last().open();
    last().drop();
    expect(socket.status.attempt).toBe(2);
  });

  it('reconnects now on request, only while waiting', () => {
    const socket = makeSocket({ initialDelay: 30_000 });
    socket.start();
    socket.reconnectNow(); // connecting: nothing to do
    expect(sockets).toHaveLength(1);
    last().drop();
    socket.reconnectNow();
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(60_000); // the cancelled timer does not open a third
    expect(sockets).toHaveLength(2);
  });

  it('stops for good: closes, rejects, no more attempts', async () => {
    const socket = makeSocket();
    socket.start();
    last().open();
    const pending = socket.request({ type: 'ping' });
    socket.stop();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    expect(last().closed?.code).toBe(1000);
    expect(socket.status.state).toBe('closed');
    vi.advanceTimersByTime(120_000);
    expect(sockets).toHaveLength(1);
  });

  it('retries when the socket cannot even be made', () => {
    let fail = true;
    const socket = makeSocket({
      createSocket: url => {
        if (fail) {
          throw new Error('bad url');
        }
        const made = new FakeSocket(url);
        sockets.push(made);
        return made;
      }
    });
    socket.start();
    expect(socket.status).toMatchObject({ state: 'closed', attempt: 1 });
    expect(socket.status.error).toContain('bad url');
    fail = false;
    vi.advanceTimersByTime(500);
    expect(sockets).toHaveLength(1);
  });

  it('drops a connection that stops answering pings', () => {
    const socket = makeSocket({ heartbeatInterval: 30_000, heartbeatTimeout: 5_000 });
    socket.start();
    last().open();
    const first = last();
    now += 30_000;
    vi.advanceTimersByTime(30_000);
    expect(first.sent.map(m => m.type)).toEqual(['ping']);
    first.answer({ type: 'pong' }); // alive
    now += 5_000;
    vi.advanceTimersByTime(5_000);
    expect(first.closed).toBeNull();

    now += 25_000;
    vi.advanceTimersByTime(25_000); // the next ping goes unanswered
    now += 5_000;
    vi.advanceTimersByTime(5_000);
    expect(first.closed?.code).toBe(4000);
    expect(socket.status).toMatchObject({ state: 'closed' });
    expect(socket.status.error).toBe('the server stopped answering');
    vi.advanceTimersByTime(1_000);
    expect(sockets).toHaveLength(2);
  });
});
