// The API server's audit trail: the log file `up` configures, and the blocking webhook.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually, logPaths, restartApiServer, restoreBaseline, rv, useE2e } from './harness.js';

const e2e = useE2e('audit');

// The fields these tests rely on (apiserver pkg/apis/audit/v1/types.go Event).
const AuditEvent = z.looseObject({
  auditID: z.string(),
  stage: z.string(),
  verb: z.string(),
  // Requests that failed authentication carry an empty user.
  user: z.looseObject({ username: z.string().optional() }),
  objectRef: z
    .looseObject({
      resource: z.string().optional(),
      namespace: z.string().optional(),
      name: z.string().optional(),
      subresource: z.string().optional(),
    })
    .optional(),
  responseStatus: z.looseObject({ code: z.number().optional() }).optional(),
  responseObject: z.looseObject({ metadata: z.looseObject({ resourceVersion: z.string().optional() }).optional() }).optional(),
});
type AuditEvent = z.infer<typeof AuditEvent>;

function auditLog(): AuditEvent[] {
  return readFileSync(logPaths().audit, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => AuditEvent.parse(JSON.parse(line)));
}

function isWrite(e: AuditEvent, verb: string, name: string): boolean {
  return (
    e.stage === 'ResponseComplete' &&
    e.verb === verb &&
    e.objectRef?.resource === 'configmaps' &&
    e.objectRef.namespace === e2e.namespace &&
    e.objectRef.name === name
  );
}

afterAll(() => restoreBaseline());

describe('audit', () => {
  it('the audit log records a create and an update with the resourceVersion the server assigned', async () => {
    const { core } = e2e.cluster;
    const namespace = e2e.namespace;
    const created = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'audited' }, data: { v: '1' } } });
    const updated = await core.replaceNamespacedConfigMap({
      name: 'audited',
      namespace,
      body: { ...created, data: { v: '2' } },
    });

    const [create, update] = await eventually(async () => {
      const events = auditLog();
      const c = events.find((e) => isWrite(e, 'create', 'audited'));
      const u = events.find((e) => isWrite(e, 'update', 'audited'));
      if (c === undefined || u === undefined) throw new Error('create/update not in the audit log yet');
      return [c, u] as const;
    }, 10_000);

    expect(create.user.username).toBe('kreplay-admin');
    expect(create.responseStatus?.code).toBe(201);
    expect(create.responseObject?.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(update.responseStatus?.code).toBe(200);
    expect(update.responseObject?.metadata?.resourceVersion).toBe(updated.metadata?.resourceVersion);
    expect(rv(update.responseObject?.metadata?.resourceVersion)).toBeGreaterThan(
      rv(create.responseObject?.metadata?.resourceVersion),
    );
    // Same request seen at RequestReceived too, under the same auditID, without the response.
    const received = auditLog().find((e) => e.auditID === create.auditID && e.stage === 'RequestReceived');
    expect(received?.responseObject).toBeUndefined();
  });

  it('the audit webhook (blocking mode) delivers the create to a configured URL', async () => {
    const batches: unknown[] = [];
    const sink = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        batches.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = sink.address() as AddressInfo;
      await restartApiServer({ auditWebhookUrl: `http://127.0.0.1:${port}/audit` });
      const created = await e2e.cluster.core.createNamespacedConfigMap({
        namespace: e2e.namespace,
        body: { metadata: { name: 'webhooked' } },
      });
      const create = await eventually(async () => {
        for (const batch of batches) {
          const list = z.object({ kind: z.literal('EventList'), items: z.array(AuditEvent) }).parse(batch);
          const found = list.items.find((e) => isWrite(e, 'create', 'webhooked'));
          if (found !== undefined) return found;
        }
        throw new Error(`the create has not reached the webhook yet (${batches.length} batches)`);
      }, 10_000);
      expect(create.responseObject?.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    } finally {
      await restoreBaseline();
      await new Promise<void>((resolve) => sink.close(() => resolve()));
    }
  });
});
