'use strict';
// The floor of the echo benchmark: a bare `ws` echo server on 127.0.0.1 (child process; port sent over IPC).
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
wss.on('listening', () => process.send({ type: 'ready', port: wss.address().port }));
process.on('message', (m) => {
  if (m && m.type === 'close') wss.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
