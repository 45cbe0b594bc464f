/**
 * The client in a real browser (Debian's headless Chromium, driven by playwright-core): its global WebSocket,
 * no `ws`, ES modules loaded as they are built, against a real platform. A dropped connection resumes there too.
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import type { RealtimeClient } from '@smarterservices/realtime';
import { usePlatform } from '../../test/support/platform.js';
import { REPO_ROOT } from '../../test/support/server-process.js';
import { tickApp } from './tick-app.js';

/** Only these trees are served: the SDK as built, and the packages it imports. */
const SERVED = ['/sdk/dist/', '/node_modules/graphql/', '/node_modules/graphql-ws/dist/', '/node_modules/fast-json-patch/'];
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function page(platformUrl: string, apiKey: string, after: string): string {
  const importMap = { imports: { graphql: '/node_modules/graphql/index.mjs', 'graphql-ws': '/node_modules/graphql-ws/dist/client.js', 'fast-json-patch': '/node_modules/fast-json-patch/index.mjs', '@smarterservices/realtime': '/sdk/dist/index.js' } };
  return `<!doctype html><script type="importmap">${JSON.stringify(importMap)}</script>
<script type="module">
  const Native = window.WebSocket;
  window.sockets = [];
  window.WebSocket = class extends Native { constructor(...args) { super(...args); window.sockets.push(this); } };
  window.got = [];
  window.reconnects = [];
  const { createRealtimeClient } = await import('@smarterservices/realtime');
  const client = createRealtimeClient({ url: ${JSON.stringify(platformUrl)}, apiKey: ${JSON.stringify(apiKey)}, retry: { minDelayMs: 300, maxDelayMs: 300 } });
  client.subscribe('subscription($after: String) { tick(after: $after) { id cursor data { n } } }', { after: ${JSON.stringify(after)} }, {
    next: (data) => window.got.push(data.tick.data.n),
    reconnecting: (info) => window.reconnects.push(info),
    error: (error) => window.failed = error.code + ': ' + error.message,
  });
</script>`;
}

describe('@smarterservices/realtime in a browser', () => {
  const platform = usePlatform();
  let files: Server;
  let filesUrl: string;
  let html = '';
  let browser: Browser;
  let producer: RealtimeClient;
  let owner: { cookie: string; app: string; pk: string; sk: string };

  beforeAll(async () => {
    files = createServer((req, res) => {
      const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] as string));
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(html);
        return;
      }
      if (!SERVED.some((prefix) => path.startsWith(prefix)) || path.includes('..')) {
        res.writeHead(404).end();
        return;
      }
      readFile(join(REPO_ROOT, path)).then(
        (body) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/`;
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    ({ owner, producer } = await tickApp(platform.url, 'Browser'));
  });

  afterAll(async () => {
    await browser?.close();
    await producer?.dispose();
    await new Promise((resolve) => files?.close(resolve));
  });

  it('should subscribe with the browser’s WebSocket and resume after the page’s socket closes', async () => {
    const publish = (n: number) => producer.publish({ topic: 'tick', data: { n } });
    const start = await publish(0);
    html = page(platform.url, owner.pk, start.cursor);
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    await tab.goto(filesUrl);
    for (let n = 1; n <= 3; n += 1) await publish(n);
    await tab.waitForFunction(() => (window as unknown as { got: number[] }).got.length === 3, undefined, { timeout: 15_000 });
    await tab.evaluate(() => (window as unknown as { sockets: { close(code: number): void }[] }).sockets[0]!.close(3000));
    for (let n = 4; n <= 6; n += 1) await publish(n);
    await tab.waitForFunction(() => (window as unknown as { got: number[] }).got.length === 6, undefined, { timeout: 15_000 });
    await publish(7);
    await tab.waitForFunction(() => (window as unknown as { got: number[] }).got.length === 7, undefined, { timeout: 15_000 });
    const state = await tab.evaluate(() => {
      const w = window as unknown as { got: number[]; reconnects: { closeCode?: number }[]; sockets: unknown[]; failed?: string };
      return { got: w.got, reconnects: w.reconnects.map((r) => r.closeCode), sockets: w.sockets.length, failed: w.failed };
    });
    expect(errors).toEqual([]);
    expect(state).toEqual({ got: [1, 2, 3, 4, 5, 6, 7], reconnects: [3000], sockets: 2, failed: undefined });
    await tab.close();
  });
});
