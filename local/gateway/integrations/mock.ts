/**
 * MOCK integrations: no backend. The rendered request template is JSON whose `statusCode` picks the integration
 * response (`{"statusCode": 200}`); without a template, or without a numeric statusCode, the status is 200
 * [UNCONFIRMED]. The backend body the response template sees is empty.
 */
import type { BackendResult } from './types';

export function mockResult(mappedBody: string): BackendResult {
  let statusCode = 200;
  try {
    const parsed = JSON.parse(mappedBody) as { statusCode?: unknown };
    const code = Number(parsed?.statusCode);
    if (Number.isInteger(code) && code >= 100 && code <= 599) statusCode = code;
  } catch {
    // not JSON: 200
  }
  return { statusCode, body: '' };
}
