'use strict';
// Benchmark-only echo route: the frame comes back to the sender as the route response (two-way route).
exports.handler = async (event) => ({ statusCode: 200, body: event.body });
