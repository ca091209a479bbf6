/**
 * The processes of one function in the local functions host, like hosted's isolates of one
 * function: each serves one request at a time, so a request's CPU time and memory are its
 * process's. A request takes an idle process (the most recently used first), or a new one
 * while fewer than `maxProcesses` exist, or waits in line for the next free one. A process is
 * stopped when it retires (see `retireReason` in `edge_limits.ts`), when it failed, and, beyond
 * the one kept warm, after `idleMs` without a request.
 *
 * @module
 */

/** What the pool needs of a process. */
export interface PooledProcess {
  /** Whether it has exited. */
  readonly exited: boolean;
}

/** Options of {@linkcode FunctionPool}. */
export interface FunctionPoolOptions<P extends PooledProcess> {
  /** Starts a new process (it belongs to the caller of `acquire` that caused it). */
  spawn: () => P;
  /** Stops a process the pool no longer wants; not awaited. */
  stop: (process: P, reason: string) => void;
  /** Why an idle process must not take another request (null: it may). */
  retireReason: (process: P) => string | null;
  /** Most processes alive at once (busy, starting and idle). */
  maxProcesses: number;
  /** An idle process other than the most recently used one is stopped after this long. */
  idleMs: number;
  /** Milliseconds clock; default `performance.now()`. */
  now?: () => number;
}

/** `acquire` was refused because the pool is closing. */
export class PoolClosedError extends Error {}

interface Waiter<P> {
  resolve: (process: P) => void;
  reject: (error: Error) => void;
}

/** The processes of one function (see the module doc). */
export class FunctionPool<P extends PooledProcess> {
  readonly #options: FunctionPoolOptions<P>;
  readonly #now: () => number;
  /** Idle processes, least recently used first. */
  #idle: Array<{ process: P; since: number }> = [];
  readonly #busy = new Set<P>();
  readonly #waiters: Waiter<P>[] = [];
  #closed = false;

  constructor(options: FunctionPoolOptions<P>) {
    if (!Number.isInteger(options.maxProcesses) || options.maxProcesses < 1) {
      throw new RangeError(
        `maxProcesses must be a positive integer: current value is ${options.maxProcesses}`,
      );
    }
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Processes that serve (or were given to) a request right now. */
  get busy(): number {
    return this.#busy.size;
  }

  /** Idle processes. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Requests waiting for a free process. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * A process for one request: an idle one, a new one, or the next one that frees up. Give it
   * back with {@linkcode release}. Rejects with {@linkcode PoolClosedError} once closed; a
   * throwing `spawn` rejects too.
   */
  acquire(): Promise<P> {
    if (this.#closed) return Promise.reject(new PoolClosedError("the pool is closed"));
    while (this.#idle.length > 0) {
      const { process } = this.#idle.pop()!;
      if (process.exited) continue;
      const reason = this.#options.retireReason(process);
      if (reason !== null) {
        this.#options.stop(process, reason);
        continue;
      }
      this.#busy.add(process);
      return Promise.resolve(process);
    }
    if (this.#busy.size < this.#options.maxProcesses) {
      try {
        return Promise.resolve(this.#spawn());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<P>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Gives back a process taken with {@linkcode acquire}. A reusable one that has not exited
   * and need not retire goes to the next waiting request or becomes idle; any other is
   * stopped and its place goes to a new process for the next waiting request.
   */
  release(process: P, options: { reusable: boolean; reason?: string }): void {
    if (!this.#busy.delete(process)) return;
    if (!process.exited) {
      const reason = options.reusable
        ? this.#options.retireReason(process)
        : options.reason ?? "not reusable";
      if (reason !== null) this.#options.stop(process, reason);
      else if (this.#waiters.length > 0) {
        this.#busy.add(process);
        this.#waiters.shift()!.resolve(process);
        return;
      } else {
        this.#idle.push({ process, since: this.#now() });
        return;
      }
    }
    this.#serveWaiters();
  }

  /** Tells the pool `process` has exited: its place is freed. */
  exited(process: P): void {
    this.#idle = this.#idle.filter((entry) => entry.process !== process);
    if (this.#busy.delete(process)) this.#serveWaiters();
  }

  /**
   * Stops idle processes that must retire, and every idle one but the most recently used that
   * has been idle for `idleMs` or longer. Call it now and then.
   */
  sweep(): void {
    const now = this.#now();
    const newest = this.#idle.at(-1);
    this.#idle = this.#idle.filter((entry) => {
      if (entry.process.exited) return false;
      const reason = this.#options.retireReason(entry.process) ??
        (entry !== newest && now - entry.since >= this.#options.idleMs ? "idle" : null);
      if (reason === null) return true;
      this.#options.stop(entry.process, reason);
      return false;
    });
  }

  /** Refuses new and waiting requests from now on; returns the idle processes (not stopped). */
  close(): P[] {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new PoolClosedError("the pool is closed"));
    }
    return this.#idle.splice(0).map((entry) => entry.process);
  }

  #spawn(): P {
    const process = this.#options.spawn();
    this.#busy.add(process);
    return process;
  }

  #serveWaiters(): void {
    while (this.#waiters.length > 0 && this.#busy.size < this.#options.maxProcesses) {
      const waiter = this.#waiters.shift()!;
      try {
        waiter.resolve(this.#spawn());
      } catch (error) {
        waiter.reject(error as Error);
      }
    }
  }
}
