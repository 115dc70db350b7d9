/**
 * @module WebSocket echo round trips: 64 connections, each sending a 64-byte
 * text message and waiting for its echo before the next, for about five
 * seconds against `WebSocketHandler` on loopback. Reports messages per second
 * and the p50/p99 round-trip latency, then the same with permessage-deflate,
 * and, as the reference measured in the same run, a bare `ws` echo server
 * driven by the same client.
 */
import { WebSocketServer } from 'ws';
import {
  Application,
  WebSocketHandler,
  websocketConnect,
  type ReceivedMessage,
  type WebSocketClientConnection,
} from '../src/web/index.js';
import type { Benchmark } from './run.js';

const CONNECTIONS = 64;
const DURATION_MS = 5_000;
const MESSAGE = 'x'.repeat(64);

class Echo extends WebSocketHandler {
  override onMessage(message: ReceivedMessage): Promise<void> {
    return this.writeMessage(message);
  }
}

class CompressedEcho extends Echo {
  override getCompressionOptions() {
    // Threshold 0: compress even these small messages, to measure the cost.
    return { threshold: 0 };
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function run(
  report: (line: string) => void,
  label: string,
  url: string,
  compression: Record<string, never> | null,
): Promise<void> {
  const connections: WebSocketClientConnection[] = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => websocketConnect({ url, compression })),
  );
  const latencies: number[] = [];
  const deadline = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    connections.map(async (c) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await c.writeMessage(MESSAGE);
        const reply = await c.readMessage();
        if (reply === null) throw new Error('the server closed the connection');
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(connections.map((c) => c.close()));
  const sorted = Float64Array.from(latencies).sort();
  report(
    `${label}: ${CONNECTIONS} connections, ${Math.round(latencies.length / elapsed)} round trips/s, ` +
      `p50 ${percentile(sorted, 50).toFixed(3)} ms, p99 ${percentile(sorted, 99).toFixed(3)} ms`,
  );
}

const bench: Benchmark = async (report) => {
  const app = new Application([
    ['/echo', Echo],
    ['/deflate', CompressedEcho],
  ]);
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const base = `ws://127.0.0.1:${server.port}`;
    await run(report, 'echo', `${base}/echo`, null);
    await run(report, 'echo, permessage-deflate', `${base}/deflate`, {});
  } finally {
    await server.close();
  }
  const bare = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  bare.on('connection', (ws) =>
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
  );
  await new Promise((resolve) => bare.once('listening', resolve));
  try {
    const { port } = bare.address() as { port: number };
    await run(report, 'reference: bare ws echo server', `ws://127.0.0.1:${port}/`, null);
  } finally {
    await new Promise((resolve) => bare.close(resolve));
  }
};

export default bench;
