/**
 * Which API and stage a request is for. All APIs share one port; they are told apart by:
 * 1. the Host header `{apiId}.execute-api.{region}.{suffix}` (what a handler's CALLBACK_URL carries through the
 *    runtime's HTTPS redirect), then the first path segment is the stage;
 * 2. else a path prefix `/{apiId}/{stage}` (always unambiguous);
 * 3. else `/{stage}`: the first API, in assembly order, that has that stage.
 * The URLs the emulator prints use form 3 when the stage name is unique across the APIs, form 2 otherwise.
 */
import type { StageModel, WebSocketApiModel } from '../model';

export interface StageTarget {
  readonly api: WebSocketApiModel;
  readonly stage: StageModel;
  /** The path after the stage, e.g. `` or `/@connections/abc%3D`. */
  readonly rest: string;
}

const EXECUTE_API_HOST = /^([a-z0-9]+)\.execute-api\./i;

export class StageResolver {
  constructor(private readonly apis: WebSocketApiModel[]) {}

  /** The API named by the Host header, if any. */
  apiFromHost(host: string | undefined): WebSocketApiModel | undefined {
    const match = host ? EXECUTE_API_HOST.exec(host) : null;
    return match ? this.apis.find((a) => a.apiId === match[1].toLowerCase()) : undefined;
  }

  /** Resolves `pathname` (still percent-encoded). */
  resolve(host: string | undefined, pathname: string): StageTarget | undefined {
    const segments = pathname.split('/');
    // segments[0] is '' (pathname starts with '/').
    const first = safeDecode(segments[1] ?? '');
    const second = safeDecode(segments[2] ?? '');
    const fromHost = this.apiFromHost(host);
    if (fromHost) {
      const stage = fromHost.stages.find((s) => s.stageName === first);
      return stage ? { api: fromHost, stage, rest: joinRest(segments, 2) } : undefined;
    }
    const byId = this.apis.find((a) => a.apiId === first);
    const byIdStage = byId?.stages.find((s) => s.stageName === second);
    if (byId && byIdStage) return { api: byId, stage: byIdStage, rest: joinRest(segments, 3) };
    for (const api of this.apis) {
      const stage = api.stages.find((s) => s.stageName === first);
      if (stage) return { api, stage, rest: joinRest(segments, 2) };
    }
    return undefined;
  }

  /** The shortest path prefix that `resolve` maps to this API's stage without a Host header. */
  pathPrefix(api: WebSocketApiModel, stageName: string): string {
    const owner = this.apis.find((a) => a.stages.some((s) => s.stageName === stageName));
    const clashesWithApiId = this.apis.some((a) => a.apiId === stageName);
    return owner === api && !clashesWithApiId ? `/${stageName}` : `/${api.apiId}/${stageName}`;
  }
}

function joinRest(segments: string[], from: number): string {
  const rest = segments.slice(from);
  return rest.length === 0 ? '' : `/${rest.join('/')}`;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
