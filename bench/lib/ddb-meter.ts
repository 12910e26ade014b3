/**
 * A metering proxy in front of a DynamoDB-compatible endpoint (dynalite): it counts every operation, adds
 * `ReturnConsumedCapacity: TOTAL` to each request, and sums the capacity units the store reports. Handlers are
 * pointed at it unchanged (AWS_ENDPOINT_URL_DYNAMODB), so what is counted is exactly what they sent.
 * Responses are passed through byte for byte (the SDK checks their CRC32).
 */
import { createServer, request } from 'http';
import type { AddressInfo } from 'net';

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface OpTotals {
  /** Requests per operation name (e.g. `PutItem`). */
  readonly calls: Record<string, number>;
  /** Items in BatchWriteItem requests (each is one write). */
  readonly batchWriteItems: number;
  /** Capacity units the store reported for read operations (RCU) and write operations (WCU). */
  readonly readUnits: number;
  readonly writeUnits: number;
  /** Items the store examined (ScannedCount of Scan/Query). */
  readonly scannedItems: number;
}

export interface DynamoMeter {
  readonly endpoint: string;
  totals(): OpTotals;
  stop(): Promise<void>;
}

function emptyTotals(): { calls: Record<string, number>; batchWriteItems: number; readUnits: number; writeUnits: number; scannedItems: number } {
  return { calls: {}, batchWriteItems: 0, readUnits: 0, writeUnits: 0, scannedItems: 0 };
}

/** The difference `after - before` of two snapshots. */
export function diffTotals(before: OpTotals, after: OpTotals): OpTotals {
  const calls: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.calls)) {
    const d = n - (before.calls[op] ?? 0);
    if (d !== 0) calls[op] = d;
  }
  return {
    calls,
    batchWriteItems: after.batchWriteItems - before.batchWriteItems,
    readUnits: after.readUnits - before.readUnits,
    writeUnits: after.writeUnits - before.writeUnits,
    scannedItems: after.scannedItems - before.scannedItems,
  };
}

function capacityOf(body: string): number {
  try {
    const parsed = JSON.parse(body) as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> };
    const c = parsed.ConsumedCapacity;
    if (Array.isArray(c)) return c.reduce((sum, x) => sum + (x.CapacityUnits ?? 0), 0);
    return c?.CapacityUnits ?? 0;
  } catch {
    return 0;
  }
}

function scannedOf(body: string): number {
  try {
    return (JSON.parse(body) as { ScannedCount?: number }).ScannedCount ?? 0;
  } catch {
    return 0;
  }
}

export async function startDynamoMeter(target: string): Promise<DynamoMeter> {
  const upstream = new URL(target);
  const totals = emptyTotals();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      let body = Buffer.concat(chunks);
      const metered = READS.has(op) || WRITES.has(op);
      if (metered) {
        const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        input.ReturnConsumedCapacity = 'TOTAL';
        if (op === 'BatchWriteItem') {
          const items = Object.values((input.RequestItems ?? {}) as Record<string, unknown[]>);
          totals.batchWriteItems += items.reduce((n, list) => n + list.length, 0);
        }
        body = Buffer.from(JSON.stringify(input), 'utf8');
      }
      totals.calls[op] = (totals.calls[op] ?? 0) + 1;
      const headers = { ...req.headers, 'content-length': String(body.length), host: upstream.host };
      const forward = request(
        { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (answer) => {
          const out: Buffer[] = [];
          answer.on('data', (c: Buffer) => out.push(c));
          answer.on('end', () => {
            const text = Buffer.concat(out);
            if (metered && (answer.statusCode ?? 500) < 300) {
              const s = text.toString('utf8');
              const units = capacityOf(s);
              if (READS.has(op)) totals.readUnits += units;
              else totals.writeUnits += units;
              totals.scannedItems += scannedOf(s);
            }
            res.writeHead(answer.statusCode ?? 500, answer.headers).end(text);
          });
        },
      );
      forward.on('error', (err) => res.writeHead(502).end(JSON.stringify({ message: err.message })));
      forward.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    totals: () => JSON.parse(JSON.stringify(totals)) as OpTotals,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
