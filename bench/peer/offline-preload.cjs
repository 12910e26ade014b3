'use strict';
/*
 * The help serverless-offline needs to run the sample unmodified (preloaded into its process with --require):
 * the sample posts to `https://${domainName}/${stage}/@connections/{id}`, which under serverless-offline is
 * https://localhost/local/@connections/{id}, while serverless-offline serves `@connections` over plain HTTP on its
 * WebSocket port without the stage prefix. HTTPS requests to localhost go there instead (keep-alive agent).
 * PEER_OFFLINE_WS_PORT: serverless-offline's --websocketPort.
 */
const http = require('http');
const https = require('https');

const port = Number(process.env.PEER_OFFLINE_WS_PORT);
const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
const originalRequest = https.request;

https.request = function request(options, ...rest) {
  const host = options && typeof options === 'object' && !(options instanceof URL) ? options.hostname || options.host : undefined;
  if (host !== 'localhost') return originalRequest.call(this, options, ...rest);
  const redirected = {
    ...options,
    protocol: 'http:',
    hostname: '127.0.0.1',
    host: '127.0.0.1',
    port,
    path: String(options.path || '/').replace(/^\/[^/]+(?=\/@connections\/)/, ''),
    agent,
  };
  return http.request(redirected, ...rest);
};
