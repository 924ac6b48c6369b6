/**
 * The websocket client of the sidebar: one connection to `{wsUrl}project-filebrowser/ws`,
 * reconnected with exponential backoff and jitter, requests with ids whose replies resolve
 * promises, and an application-level heartbeat that notices a dead connection.
 *
 * Framework-free and injectable (socket factory, clock, random), so it is unit-tested
 * without a browser.
 *
 * Just over 400 lines: one class, whose reconnect, request and heartbeat timers share
 * the one socket they watch.
 */

import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';

import {
  ClientRequest,
  IReplyOf,
  SERVER_MESSAGE_TYPES,
  ServerMessage
} from './types';

/** The part of the DOM `WebSocket` this client uses. */
export interface IWebSocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export const OPEN = 1;

export type SocketState = 'connecting' | 'open' | 'closed';

export interface ISocketStatus {
  state: SocketState;
  /** Failed attempts since the last good connection (0 while things are fine). */
  attempt: number;
  /** When the next attempt starts (ms since the epoch), while closed and retrying. */
  retryAt: number | null;
  /** Why the connection closed, for people. */
  error: string | null;
}

export interface ISocketOptions {
  /** The URL to connect to; called on every attempt (so a new token is picked up). */
  url: () => string;
  /** Makes the socket; defaults to the global `WebSocket`. */
  createSocket?: (url: string) => IWebSocketLike;
  /** First retry delay, ms. */
  initialDelay?: number;
  /** Longest retry delay, ms. */
  maxDelay?: number;
  /** Growth of the delay per failed attempt. */
  factor?: number;
  /** Share of the delay that is random (0 to 1), so tabs do not reconnect in step. */
  jitter?: number;
  /** How long a request waits for its reply, ms. */
  requestTimeout?: number;
  /** Ping period while open, ms; 0 turns the heartbeat off. */
  heartbeatInterval?: number;
  /** How long a ping may stay unanswered before the connection is dropped, ms. */
  heartbeatTimeout?: number;
  /** A connection that stayed up this long resets the backoff when it drops, ms. */
  stableAfter?: number;
  now?: () => number;
  random?: () => number;
  /** Translates the errors it reports; defaults to none (English). */
  trans?: TranslationBundle;
}

/** A request failed: the server answered with an `error`, or no answer came. */
export class SocketRequestError extends Error {
  constructor(
    message: string,
    readonly code: string
  ) {
    super(message);
    this.name = 'SocketRequestError';
  }
}

type Pending = {
  resolve: (message: ServerMessage) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
};

/** The delay before attempt `attempt` (1-based), without jitter. */
export function backoffDelay(
  attempt: number,
  initialDelay: number,
  maxDelay: number,
  factor: number
): number {
  return Math.min(maxDelay, initialDelay * Math.pow(factor, Math.max(0, attempt - 1)));
}

export class ProjectSocket {
  constructor(options: ISocketOptions) {
    this._url = options.url;
    this._createSocket =
      options.createSocket ?? ((url: string) => new WebSocket(url) as IWebSocketLike);
    this._initialDelay = options.initialDelay ?? 500;
    this._maxDelay = options.maxDelay ?? 30_000;
    this._factor = options.factor ?? 2;
    this._jitter = options.jitter ?? 0.25;
    this._requestTimeout = options.requestTimeout ?? 30_000;
    this._heartbeatInterval = options.heartbeatInterval ?? 30_000;
    this._heartbeatTimeout = options.heartbeatTimeout ?? 10_000;
    this._stableAfter = options.stableAfter ?? 10_000;
    this._now = options.now ?? Date.now;
    this._random = options.random ?? Math.random;
    this._trans = options.trans ?? nullTranslator.load('project_filebrowser');
  }

  /** The connection's state now. */
  get status(): ISocketStatus {
    return { ...this._status };
  }

  /** Whether requests can be sent now (open, and `hello` received). */
  get isOpen(): boolean {
    return this._status.state === 'open';
  }

  /** Listen to every message the server sends; returns the function that stops it. */
  onMessage(listener: (message: ServerMessage) => void): () => void {
    this._messageListeners.add(listener);
    return () => this._messageListeners.delete(listener);
  }

  /** Listen to connection state changes; returns the function that stops it. */
  onStatus(listener: (status: ISocketStatus) => void): () => void {
    this._statusListeners.add(listener);
    return () => this._statusListeners.delete(listener);
  }

  /** Connect, and keep reconnecting until `stop()`. */
  start(): void {
    if (this._stopped === false) {
      return;
    }
    this._stopped = false;
    this._connect();
  }

  /** Close for good: no more reconnects; pending requests fail. */
  stop(): void {
    this._stopped = true;
    this._clearTimers();
    this._rejectAll(this._trans.__('the connection was closed'));
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      this._detach(socket);
      socket.close(1000, 'closed by the client');
    }
    this._setStatus({ state: 'closed', attempt: 0, retryAt: null, error: null });
  }

  /** Try again at once (a user's "Reconnect now", the browser coming back online). */
  reconnectNow(): void {
    if (this._stopped || this._status.state !== 'closed') {
      return;
    }
    this._clearTimers();
    this._connect();
  }

  /**
   * Send a request and wait for the reply that carries its id.
   *
   * @throws SocketRequestError with the server's code when it answers `error`,
   *   `not_connected` when the connection is down, `closed` when it drops before the
   *   reply, `timeout` when no reply comes in time.
   */
  request<R extends ClientRequest>(message: R): Promise<IReplyOf[R['type']]> {
    if (!this.isOpen || this._socket === null) {
      return Promise.reject(
        new SocketRequestError(
          this._trans.__('Not connected to the Jupyter server.'),
          'not_connected'
        )
      );
    }
    const id = `r${++this._counter}`;
    const socket = this._socket;
    return new Promise<IReplyOf[R['type']]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(
          new SocketRequestError(this._trans.__('The server did not answer in time.'), 'timeout')
        );
      }, this._requestTimeout);
      this._pending.set(id, {
        resolve: message => resolve(message as IReplyOf[R['type']]),
        reject,
        timer
      });
      try {
        socket.send(JSON.stringify({ ...message, id }));
      } catch (error) {
        clearTimeout(timer);
        this._pending.delete(id);
        reject(new SocketRequestError(String(error), 'send_failed'));
      }
    });
  }

  // -- internals ---------------------------------------------------------------------------

  private _connect(): void {
    this._setStatus({ ...this._status, state: 'connecting', retryAt: null });
    let socket: IWebSocketLike;
    try {
      socket = this._createSocket(this._url());
    } catch (error) {
      this._scheduleRetry(this._trans.__('cannot open a websocket: %1', String(error)));
      return;
    }
    this._socket = socket;
    this._helloAt = null;
    socket.onmessage = event => this._onData(socket, event.data);
    socket.onerror = () => {
      // A close event always follows; it carries what can be known.
    };
    socket.onclose = event => {
      if (this._socket !== socket) {
        return;
      }
      this._socket = null;
      this._clearHeartbeat();
      this._rejectAll(this._trans.__('the connection closed before the reply'));
      const stable = this._helloAt !== null && this._now() - this._helloAt >= this._stableAfter;
      if (stable) {
        this._status.attempt = 0;
      }
      const code = event.reason ? `${event.code}: ${event.reason}` : String(event.code);
      this._scheduleRetry(
        this._helloAt === null
          ? this._trans.__('cannot reach the server (code %1)', code)
          : this._trans.__('the connection closed (code %1)', code)
      );
    };
  }

  private _detach(socket: IWebSocketLike): void {
    socket.onopen = socket.onclose = socket.onerror = socket.onmessage = null;
  }

  private _onData(socket: IWebSocketLike, data: unknown): void {
    if (socket !== this._socket || typeof data !== 'string') {
      return;
    }
    let message: ServerMessage;
    try {
      message = JSON.parse(data) as ServerMessage;
    } catch {
      console.warn('project-filebrowser: ignoring a websocket message that is not JSON');
      return;
    }
    if (
      typeof message !== 'object' ||
      message === null ||
      !SERVER_MESSAGE_TYPES.includes(message.type)
    ) {
      console.warn('project-filebrowser: ignoring an unknown websocket message', message);
      return;
    }
    this._lastMessageAt = this._now();
    if (message.type === 'hello') {
      this._helloAt = this._now();
      this._setStatus({ state: 'open', attempt: this._status.attempt, retryAt: null, error: null });
      this._startHeartbeat();
    }
    if (message.id !== undefined) {
      const pending = this._pending.get(message.id);
      if (pending !== undefined) {
        this._pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.type === 'error') {
          pending.reject(new SocketRequestError(message.message, message.code));
        } else {
          pending.resolve(message);
        }
      }
    }
    for (const listener of [...this._messageListeners]) {
      try {
        listener(message);
      } catch (error) {
        console.error('project-filebrowser: a message listener failed', error);
      }
    }
  }

  private _scheduleRetry(error: string): void {
    if (this._stopped) {
      return;
    }
    const attempt = this._status.attempt + 1;
    const base = backoffDelay(attempt, this._initialDelay, this._maxDelay, this._factor);
    const delay = Math.round(base * (1 - this._jitter * this._random()));
    this._setStatus({ state: 'closed', attempt, retryAt: this._now() + delay, error });
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this._connect();
    }, delay);
  }

  private _startHeartbeat(): void {
    this._clearHeartbeat();
    if (this._heartbeatInterval <= 0) {
      return;
    }
    this._heartbeatTimer = setInterval(() => {
      const socket = this._socket;
      if (socket === null || !this.isOpen) {
        return;
      }
      const sentAt = this._now();
      this.request({ type: 'ping' }).catch(() => undefined);
      this._deadTimer = setTimeout(() => {
        if (this._socket === socket && this._lastMessageAt < sentAt) {
          // No answer, not even an event: the connection is dead; drop it and retry.
          this._drop(socket, this._trans.__('the server stopped answering'));
        }
      }, this._heartbeatTimeout);
    }, this._heartbeatInterval);
  }

  private _drop(socket: IWebSocketLike, error: string): void {
    this._detach(socket);
    try {
      socket.close(4000, error);
    } catch {
      // already closing
    }
    this._socket = null;
    this._clearHeartbeat();
    this._rejectAll(error);
    this._scheduleRetry(error);
  }

  private _clearHeartbeat(): void {
    if (this._heartbeatTimer !== null) {
      clearInterval(this._heartbeatTimer);
      this._heartbeatTimer = null;
    }
    if (this._deadTimer !== null) {
      clearTimeout(this._deadTimer);
      this._deadTimer = null;
    }
  }

  private _clearTimers(): void {
    if (this._retryTimer !== null) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
    this._clearHeartbeat();
  }

  private _rejectAll(reason: string): void {
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const request of pending) {
      clearTimeout(request.timer);
      request.reject(
        new SocketRequestError(this._trans.__('The request failed: %1.', reason), 'closed')
      );
    }
  }

  private _setStatus(status: ISocketStatus): void {
    const before = this._status;
    this._status = status;
    if (
      before.state === status.state &&
      before.attempt === status.attempt &&
      before.retryAt === status.retryAt &&
      before.error === status.error
    ) {
      return;
    }
    for (const listener of [...this._statusListeners]) {
      listener({ ...status });
    }
  }

  private readonly _url: () => string;
  private readonly _createSocket: (url: string) => IWebSocketLike;
  private readonly _initialDelay: number;
  private readonly _maxDelay: number;
  private readonly _factor: number;
  private readonly _jitter: number;
  private readonly _requestTimeout: number;
  private readonly _heartbeatInterval: number;
  private readonly _heartbeatTimeout: number;
  private readonly _stableAfter: number;
  private readonly _now: () => number;
  private readonly _random: () => number;
  private readonly _trans: TranslationBundle;
  private _socket: IWebSocketLike | null = null;
  private _stopped: boolean | null = null;
  private _status: ISocketStatus = { state: 'closed', attempt: 0, retryAt: null, error: null };
  private _counter = 0;
  private _pending = new Map<string, Pending>();
  private _messageListeners = new Set<(message: ServerMessage) => void>();
  private _statusListeners = new Set<(status: ISocketStatus) => void>();
  private _retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private _deadTimer: ReturnType<typeof setTimeout> | null = null;
  private _helloAt: number | null = null;
  private _lastMessageAt = 0;
}
