// Container probes (upstream pkg/kubelet/prober): one worker per (pod, container, probe
// type) runs the probe every periodSeconds after initialDelaySeconds, each attempt bounded
// by timeoutSeconds; a result flips only after successThreshold consecutive successes or
// failureThreshold consecutive failures. Readiness starts as failure, liveness as success,
// startup as unknown; liveness and readiness wait until the startup probe has succeeded.
// Results are per container ID, so a restarted container starts from scratch. Every flip
// calls `onChange(podUid)`: the pod worker then restarts (liveness) or re-reports (readiness).

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container, Pod, Probe } from '../api/generated/types/core-v1.js';
import type { Clock, TimerHandle } from '../client/clock.js';
import type { RuntimeService } from './runtime/runtime.js';

/** The three probe kinds. */
export type ProbeType = 'liveness' | 'readiness' | 'startup';

/** A probe attempt's outcome. */
export type ProbeResult = 'success' | 'failure' | 'unknown';

/** Outcome plus the reason shown in events. */
export interface ProbeOutcome {
  result: ProbeResult;
  output: string;
}

/** Resolves a named container port. */
function resolvePort(port: number | string | undefined, container: Container): number {
  if (typeof port === 'number') return port;
  const n = Number(port);
  if (Number.isInteger(n) && n > 0) return n;
  const named = container.ports?.find((p) => p.name === port);
  if (named === undefined) throw new Error(`couldn't find port: ${String(port)} in ${container.name}`);
  return named.containerPort;
}

/** Runs one attempt of a probe against a running container. */
export async function runProbe(
  probe: Probe,
  container: Container,
  containerId: string,
  podIP: string,
  runtime: Pick<RuntimeService, 'execSync'>,
): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec !== undefined) {
      const r = await runtime.execSync(containerId, probe.exec.command ?? [], probe.timeoutSeconds ?? 1);
      const output = Buffer.concat([r.stdout, r.stderr]).toString('utf8');
      return { result: r.exitCode === 0 ? 'success' : 'failure', output };
    }
    if (probe.httpGet !== undefined) {
      const g = probe.httpGet;
      const host = g.host !== undefined && g.host !== '' ? g.host : podIP || '127.0.0.1';
      const port = resolvePort(g.port, container);
      const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
      for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
      const https = (g.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
      return await new Promise<ProbeOutcome>((resolve) => {
        const req = (https ? httpsRequest : httpRequest)(
          {
            host,
            port,
            path: g.path ?? '/',
            method: 'GET',
            headers,
            timeout: timeoutMs,
            rejectUnauthorized: false,
          },
          (res) => {
            res.resume();
            const code = res.statusCode ?? 0;
            resolve(
              code >= 200 && code < 400
                ? { result: 'success', output: '' }
                : { result: 'failure', output: `HTTP probe failed with statuscode: ${code}` },
            );
          },
        );
        req.once('timeout', () => {
          req.destroy();
          resolve({
            result: 'failure',
            output: `Get "http${https ? 's' : ''}://${host}:${port}${g.path ?? '/'}": context deadline exceeded`,
          });
        });
        req.once('error', (e) => resolve({ result: 'failure', output: e.message }));
        req.end();
      });
    }
    if (probe.tcpSocket !== undefined) {
      const host = probe.tcpSocket.host || podIP || '127.0.0.1';
      const port = resolvePort(probe.tcpSocket.port, container);
      return await new Promise<ProbeOutcome>((resolve) => {
        const s = connect({ host, port });
        const timer = setTimeout(() => {
          s.destroy();
          resolve({ result: 'failure', output: `dial tcp ${host}:${port}: i/o timeout` });
        }, timeoutMs);
        s.once('connect', () => {
          clearTimeout(timer);
          s.destroy();
          resolve({ result: 'success', output: '' });
        });
        s.once('error', (e) => {
          clearTimeout(timer);
          resolve({ result: 'failure', output: `dial tcp ${host}:${port}: ${e.message}` });
        });
      });
    }
    return { result: 'unknown', output: 'probe handler not supported by kts' };
  } catch (e) {
    return { result: 'failure', output: e instanceof Error ? e.message : String(e) };
  }
}

interface Worker {
  key: string;
  uid: string;
  type: ProbeType;
  containerId: string;
  container: Container;
  probe: Probe;
  result: ProbeResult;
  successes: number;
  failures: number;
  timer?: TimerHandle;
  stopped: boolean;
  lastOutput: string;
  pod: Pod;
}

/** What the manager needs to know about a running container. */
export interface RunningContainer {
  id: string;
  /** When it started, ms since the epoch. */
  startedAtMs: number;
}

/** Options of the probe manager. */
export interface ProbeManagerOptions {
  runtime: Pick<RuntimeService, 'execSync'>;
  clock: Clock;
  /** Called when a result of one of the pod's containers changed. */
  onChange: (podUid: string) => void;
  /** Called on every failed probe run (the kubelet records an `Unhealthy` event). */
  onFailure?: (pod: Pod, container: Container, type: ProbeType, output: string) => void;
}

/** Keeps one worker per probe of every running container. */
export class ProbeManager {
  private readonly workers = new Map<string, Worker>();
  private readonly podIPs = new Map<string, string>();

  /** A manager over a runtime. */
  constructor(private readonly opts: ProbeManagerOptions) {}

  /** Reconciles the workers of one pod with its running containers. */
  syncPod(pod: Pod, podIP: string, running: Map<string, RunningContainer>): void {
    const uid = pod.metadata?.uid ?? '';
    this.podIPs.set(uid, podIP);
    const wanted = new Set<string>();
    const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    for (const c of all) {
      const rc = running.get(c.name);
      if (rc === undefined) continue;
      const probes: [ProbeType, Probe | undefined][] = [
        ['startup', c.startupProbe],
        ['readiness', c.readinessProbe],
        ['liveness', c.livenessProbe],
      ];
      for (const [type, probe] of probes) {
        if (probe === undefined) continue;
        const key = `${uid}/${c.name}/${type}`;
        wanted.add(key);
        const w = this.workers.get(key);
        if (w !== undefined && w.containerId === rc.id) continue;
        if (w !== undefined) this.stopWorker(w);
        this.startWorker(key, pod, type, c, probe, rc);
      }
    }
    for (const [key, w] of this.workers) if (w.uid === uid && !wanted.has(key)) this.stopWorker(w);
  }

  private startWorker(
    key: string,
    pod: Pod,
    type: ProbeType,
    c: Container,
    probe: Probe,
    rc: RunningContainer,
  ): void {
    const uid = pod.metadata?.uid ?? '';
    const w: Worker = {
      key,
      pod,
      uid,
      type,
      containerId: rc.id,
      container: c,
      probe,
      result: type === 'liveness' ? 'success' : type === 'readiness' ? 'failure' : 'unknown',
      successes: 0,
      failures: 0,
      stopped: false,
      lastOutput: '',
    };
    this.workers.set(key, w);
    const delayMs = Math.max(
      0,
      rc.startedAtMs + (probe.initialDelaySeconds ?? 0) * 1000 - this.opts.clock.now(),
    );
    w.timer = this.opts.clock.setTimeout(() => void this.tick(w), delayMs);
  }

  private stopWorker(w: Worker): void {
    w.stopped = true;
    w.timer?.cancel();
    this.workers.delete(w.key);
  }

  private async tick(w: Worker): Promise<void> {
    if (w.stopped) return;
    // Liveness and readiness wait for the startup probe, as upstream.
    const startupPending =
      w.type !== 'startup' &&
      w.container.startupProbe !== undefined &&
      !this.isStarted(w.uid, w.container.name, w.containerId);
    if (!startupPending) {
      const out = await runProbe(
        w.probe,
        w.container,
        w.containerId,
        this.podIPs.get(w.uid) ?? '',
        this.opts.runtime,
      );
      if (w.stopped) return;
      w.lastOutput = out.output;
      if (out.result === 'failure') this.opts.onFailure?.(w.pod, w.container, w.type, out.output);
      this.record(w, out.result);
    }
    // A succeeded startup probe is done for the life of the container.
    if (w.type === 'startup' && w.result === 'success') return;
    w.timer = this.opts.clock.setTimeout(() => void this.tick(w), (w.probe.periodSeconds ?? 10) * 1000);
  }

  private record(w: Worker, r: ProbeResult): void {
    if (r === 'unknown') return;
    if (r === 'success') {
      w.successes++;
      w.failures = 0;
    } else {
      w.failures++;
      w.successes = 0;
    }
    const threshold = r === 'success' ? (w.probe.successThreshold ?? 1) : (w.probe.failureThreshold ?? 3);
    const count = r === 'success' ? w.successes : w.failures;
    if (count >= threshold && w.result !== r) {
      w.result = r;
      this.opts.onChange(w.uid);
    }
  }

  private result(uid: string, name: string, type: ProbeType, containerId: string): ProbeResult | undefined {
    const w = this.workers.get(`${uid}/${name}/${type}`);
    return w !== undefined && w.containerId === containerId ? w.result : undefined;
  }

  /** Whether the container passed its startup probe (true without one). */
  isStarted(uid: string, name: string, containerId: string): boolean {
    const r = this.result(uid, name, 'startup', containerId);
    return r === undefined || r === 'success';
  }

  /** Whether the container is ready (true without a readiness probe, once started). */
  isReady(uid: string, container: Container, containerId: string): boolean {
    if (!this.isStarted(uid, container.name, containerId)) return false;
    if (container.readinessProbe === undefined) return true;
    return this.result(uid, container.name, 'readiness', containerId) === 'success';
  }

  /** The failing liveness (or startup) probe's output when the container must be restarted. */
  failedProbe(
    uid: string,
    name: string,
    containerId: string,
  ): { type: ProbeType; output: string } | undefined {
    for (const type of ['liveness', 'startup'] as const) {
      const w = this.workers.get(`${uid}/${name}/${type}`);
      if (w !== undefined && w.containerId === containerId && w.result === 'failure') {
        return { type, output: w.lastOutput };
      }
    }
    return undefined;
  }

  /** Stops every worker of a pod. */
  removePod(uid: string): void {
    for (const w of [...this.workers.values()]) if (w.uid === uid) this.stopWorker(w);
    this.podIPs.delete(uid);
  }

  /** Stops every worker. */
  stop(): void {
    for (const w of [...this.workers.values()]) this.stopWorker(w);
  }
}
