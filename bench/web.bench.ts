/**
 * @module Routed request throughput of the web core: a small handler behind a
 * routing table of a dozen rules, on loopback, over keep-alive connections
 * with 32 requests in flight, for about five seconds.
 */
import { Agent, request } from 'node:http';
import { Application, RequestHandler } from '../src/web/index.js';
import type { Benchmark } from './run.js';

class ItemHandler extends RequestHandler {
  override get(folder?: string, id?: string): void {
    this.write(`<p>${folder ?? ''} ${id ?? ''}</p>`);
  }
}

class OtherHandler extends RequestHandler {
  override get(): void {
    this.write('other');
  }
}

const CONCURRENCY = 32;
const DURATION_MS = 5000;

const bench: Benchmark = async (report) => {
  const rules: [string, typeof RequestHandler][] = [];
  for (let i = 0; i < 10; i++) rules.push([`/other${i}/(\\d+)`, OtherHandler]);
  rules.push(['/folder/([^/]+)/(\\d+)', ItemHandler]);
  const app = new Application(rules);
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let done = 0;
  let failed = 0;
  const deadline = Date.now() + DURATION_MS;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, path: '/folder/INBOX/42', agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) done++;
            else failed++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) await one();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  await server.close();
  report(`routed GET: ${Math.round(done / seconds)} req/s (${CONCURRENCY} in flight, keep-alive)`);
  if (failed > 0) report(`routed GET: ${failed} requests failed`);
};

export default bench;
