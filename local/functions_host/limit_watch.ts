/**
 * Watches one function process while it serves a request: samples its CPU time and memory
 * every `pollMs`, and reports the first limit it runs into (`cpu`, `memory`, or `wall_clock`
 * when the process reaches the end of its life). Also measures what the request used: its CPU
 * time and the largest resident set seen while it ran.
 *
 * @module
 */

import { type EdgeLimits, exceededLimit, type UsageSample } from "./edge_limits.ts";

/** What the watch needs of a process. */
export interface WatchedProcess {
  /** Usage since the process started listening (see `FunctionProcess.usage`). */
  usage(): UsageSample;
  /** `performance.now()`-style time it started listening. */
  readonly readyAt: number | undefined;
  /** Whether it has exited. */
  readonly exited: boolean;
}

/** Options of {@linkcode LimitWatch}. */
export interface LimitWatchOptions {
  /** The limits to enforce. */
  limits: EdgeLimits;
  /** Called once, with the first limit run into. */
  onBreach: (limit: "cpu" | "memory" | "wall_clock") => void;
  /** Milliseconds clock of `readyAt`; default `performance.now()`. */
  now?: () => number;
}

/** Samples a process for one request (see the module doc). */
export class LimitWatch {
  readonly #process: WatchedProcess;
  readonly #options: LimitWatchOptions;
  readonly #start: UsageSample;
  #last: UsageSample;
  #maxRssMb: number;
  #breached: "cpu" | "memory" | "wall_clock" | undefined;
  #interval: ReturnType<typeof setInterval> | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;

  /** Takes the first sample: what the process had used before the request. */
  constructor(process: WatchedProcess, options: LimitWatchOptions) {
    this.#process = process;
    this.#options = options;
    this.#start = process.usage();
    this.#last = this.#start;
    this.#maxRssMb = this.#start.rssMb;
  }

  /** The limit run into, if any. */
  get breached(): "cpu" | "memory" | "wall_clock" | undefined {
    return this.#breached;
  }

  /** CPU time the process used since the watch started (as of the last sample), in ms. */
  get cpuMs(): number {
    return Math.max(0, this.#last.cpuMs - this.#start.cpuMs);
  }

  /**
   * The largest resident set while the watch ran, in MB: the process's peak when that grew
   * during the request (so a spike between two samples counts), else the largest sample.
   */
  get maxRssMb(): number {
    return this.#last.peakRssMb > this.#start.peakRssMb ? this.#last.peakRssMb : this.#maxRssMb;
  }

  /** What the process has used since it listened, as of the last sample. */
  get processUsage(): UsageSample {
    return this.#last;
  }

  /** Milliseconds until the process reaches its wall clock (negative once past). */
  msLeft(): number {
    const now = (this.#options.now ?? (() => performance.now()))();
    return (this.#process.readyAt ?? now) + this.#options.limits.wallClockMs - now;
  }

  /**
   * Samples the process now and reports a limit it is past (calling `onBreach` the first
   * time). A process that has exited keeps its last sample.
   */
  check(): "cpu" | "memory" | "wall_clock" | undefined {
    if (this.#breached) return this.#breached;
    if (!this.#process.exited) {
      this.#last = this.#process.usage();
      this.#maxRssMb = Math.max(this.#maxRssMb, this.#last.rssMb);
    }
    const limit = exceededLimit(this.#last, this.#options.limits) ??
      (this.msLeft() <= 0 ? "wall_clock" : null);
    if (limit !== null) this.#breach(limit);
    return this.#breached;
  }

  /** Samples every `pollMs` and fires at the wall clock, until {@linkcode stop}. */
  start(pollMs: number): void {
    this.#interval ??= setInterval(() => {
      if (this.#process.exited) this.stop();
      else this.check();
    }, pollMs);
    this.#deadline ??= setTimeout(() => this.#breach("wall_clock"), Math.max(0, this.msLeft()));
  }

  /** Stops sampling (takes no last sample: call {@linkcode check} first for one). */
  stop(): void {
    clearInterval(this.#interval);
    clearTimeout(this.#deadline);
  }

  #breach(limit: "cpu" | "memory" | "wall_clock"): void {
    if (this.#breached) return;
    this.#breached = limit;
    this.stop();
    this.#options.onBreach(limit);
  }
}
