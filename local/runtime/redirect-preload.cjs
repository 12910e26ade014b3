'use strict';
/*
 * Preloaded (`node --require`) into every function process: HTTPS connections to the emulator's hosts
 * (`<apiId>.execute-api.<region>.amazonaws.com`, the events' domainName) go to the emulator on 127.0.0.1,
 * so an unmodified handler's ApiGatewayManagementApi client reaches the local @connections endpoint.
 * SNI and the Host header keep the original name; the emulator's certificate is trusted via NODE_EXTRA_CA_CERTS.
 *
 * WSGATE_REDIRECT_HOSTS: comma-separated host names, `*.` wildcards allowed; WSGATE_REDIRECT_PORT: emulator port.
 * WSGATE_REDIRECT_PLAIN=1 (the emulator's port also speaks plain HTTP): the connection is a plain TCP socket to that
 * port instead, so no TLS handshake is paid per connection. The handler's client still sends the same HTTPS-shaped
 * request (Host, SigV4 over the https URL); only the encryption of this loopback hop is skipped. A handler that
 * builds a client per invocation (AWS's chat sample does) would otherwise pay up to 50 handshakes per fan-out.
 * In that mode, requests made with `https.request` (as the AWS SDKs make them) also share one keep-alive pool of
 * plain connections to the emulator for the whole process, instead of the pool of the client that made them: a
 * client built per invocation would otherwise open a new TCP connection each time (up to 50 per fan-out), the
 * connection setup the emulator's profile showed on every `@connections` post.
 */
const http = require('http');
const https = require('https');
const net = require('net');
const tls = require('tls');

const patterns = (process.env.WSGATE_REDIRECT_HOSTS || '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
const port = Number(process.env.WSGATE_REDIRECT_PORT);
const plain = process.env.WSGATE_REDIRECT_PLAIN === '1';
/** True when the emulator named hosts and a port to redirect to: both patches below apply only then. */
const redirecting = patterns.length > 0 && Number.isInteger(port) && port > 0;

/**
 * The emulator's own address (`127.0.0.1:PORT`, what `requestContext.domainName` holds): a client built from the
 * event (`https://{domainName}/{stage}`, as AWS's chat sample does) connects there directly. With WSGATE_REDIRECT_PLAIN
 * that connection is made plain too, else every such client pays a TLS handshake with the emulator.
 */
function isEmulator(host, toPort) {
  const name = String(host || '').toLowerCase();
  return (name === '127.0.0.1' || name === 'localhost' || name === '::1' || name === '[::1]') && Number(toPort) === port;
}

function matches(host) {
  const name = String(host || '').toLowerCase().replace(/\.$/, '');
  return patterns.some((p) => {
    const bare = p.replace(/:\d+$/, '');
    if (bare.startsWith('*.')) return name.endsWith(bare.slice(1)) && name.length > bare.length - 1;
    return name === bare;
  });
}

/** A plain TCP socket to the emulator's port, announced like a TLS one. */
function plainSocket(callback) {
  const socket = net.connect({ host: '127.0.0.1', port });
  // Clients written for a TLS socket wait for 'secureConnect' (fetch/undici does, which JWKS fetches use):
  // the plain socket announces it right after 'connect'.
  socket.once('connect', () => socket.emit('secureConnect'));
  if (callback) socket.once('connect', callback);
  return socket;
}

if (redirecting) {
  const originalConnect = tls.connect;
  tls.connect = function connect(...args) {
    // Forms: (options[, cb]), (port[, host][, options][, cb]), (path[, options][, cb])
    let options;
    let callback;
    if (args[0] !== null && typeof args[0] === 'object') {
      options = { ...args[0] };
      callback = args.find((a) => typeof a === 'function');
    } else if (typeof args[0] === 'number' || /^\d+$/.test(String(args[0]))) {
      const rest = args.slice(1);
      const host = typeof rest[0] === 'string' ? rest.shift() : undefined;
      const extra = rest[0] !== null && typeof rest[0] === 'object' ? rest.shift() : {};
      options = { ...extra, port: Number(args[0]), ...(host ? { host } : {}) };
      callback = rest.find((a) => typeof a === 'function');
    } else {
      return originalConnect.apply(this, args);
    }
    const host = options.host || options.servername;
    if (plain && isEmulator(host, options.port)) return plainSocket(callback);
    if (!matches(host)) return originalConnect.apply(this, args);
    const redirected = { ...options, host: '127.0.0.1', port, servername: options.servername || String(host).replace(/:\d+$/, '') };
    delete redirected.path;
    if (plain) return plainSocket(callback);
    return callback ? originalConnect.call(this, redirected, callback) : originalConnect.call(this, redirected);
  };
}

/** At most as many connections as an AWS SDK client's own pool holds (maxSockets 50), for the whole process. */
const POOLED_SOCKETS = 50;

/** The Host header an HTTPS client sends for `host` and `toPort` (no port for 443), unless the caller set one. */
function withHost(headers, host, toPort) {
  const own = headers || {};
  if (Object.keys(own).some((name) => name.toLowerCase() === 'host')) return own;
  const port443 = toPort === undefined || toPort === null || Number(toPort) === 443;
  return { ...own, host: port443 ? String(host) : `${host}:${toPort}` };
}

if (plain && redirecting) {
  const pool = new http.Agent({ keepAlive: true, maxSockets: POOLED_SOCKETS });
  const originalRequest = https.request;
  https.request = function request(...args) {
    // The (options[, callback]) form the SDKs use; URL and string forms keep the TLS path (made plain by tls.connect).
    const options = args[0];
    if (options === null || typeof options !== 'object' || options instanceof URL) return originalRequest.apply(this, args);
    const host = options.hostname || options.host;
    if (!isEmulator(host, options.port) && !matches(host)) return originalRequest.apply(this, args);
    const callback = args.find((a) => typeof a === 'function');
    const redirected = {
      ...options,
      protocol: 'http:',
      hostname: '127.0.0.1',
      host: '127.0.0.1',
      port,
      agent: pool,
      headers: withHost(options.headers, String(host).replace(/:\d+$/, ''), options.port),
    };
    return callback ? http.request(redirected, callback) : http.request(redirected);
  };
}
