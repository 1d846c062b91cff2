import { Counter, Gauge, type Registry } from 'prom-client';
import type { WsStats } from '../../../shared/contracts';

/** Counters of this instance, kept as plain numbers (for ws-stats) and as Prometheus metrics. */
export class WsStatsRecorder {
  private total = 0;
  private active = 0;
  private peak = 0;
  private sent = 0;
  private received = 0;
  private errored = 0;
  private authFailures = 0;
  private heartbeatKills = 0;
  private readonly metrics;

  constructor(registry: Registry) {
    const registers = [registry];
    this.metrics = {
      total: new Counter({ name: 'ws_connections_total', help: 'WebSocket connections accepted', registers }),
      active: new Gauge({ name: 'ws_connections_active', help: 'Open WebSocket connections', registers }),
      peak: new Gauge({ name: 'ws_connections_peak', help: 'Most WebSocket connections open at once', registers }),
      sent: new Counter({ name: 'ws_messages_sent_total', help: 'Frames sent to WebSocket clients', registers }),
      received: new Counter({ name: 'ws_messages_received_total', help: 'Frames received from WebSocket clients', registers }),
      errored: new Counter({ name: 'ws_messages_errored_total', help: 'Client frames answered with an error', registers }),
      authFailures: new Counter({
        name: 'ws_auth_failures_total',
        help: 'WebSocket upgrades refused for want of a valid session',
        registers,
      }),
      heartbeatKills: new Counter({ name: 'ws_heartbeat_terminations_total', help: 'Connections terminated for a missed pong', registers }),
    };
  }

  opened(): void {
    this.total++;
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    this.metrics.total.inc();
    this.metrics.active.set(this.active);
    this.metrics.peak.set(this.peak);
  }

  closed(): void {
    this.active--;
    this.metrics.active.set(this.active);
  }

  frameSent(count = 1): void {
    this.sent += count;
    this.metrics.sent.inc(count);
  }

  frameReceived(): void {
    this.received++;
    this.metrics.received.inc();
  }

  frameErrored(): void {
    this.errored++;
    this.metrics.errored.inc();
  }

  authFailed(): void {
    this.authFailures++;
    this.metrics.authFailures.inc();
  }

  heartbeatTerminated(): void {
    this.heartbeatKills++;
    this.metrics.heartbeatKills.inc();
  }

  snapshot(): WsStats {
    return {
      connections: { total: this.total, active: this.active, peak: this.peak },
      messages: { sent: this.sent, received: this.received, errored: this.errored },
      failedAuthentications: this.authFailures,
      heartbeatTerminations: this.heartbeatKills,
    };
  }
}
