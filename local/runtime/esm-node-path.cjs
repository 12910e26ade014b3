'use strict';
/*
 * Loaded by worker.cjs before it imports an ES module handler: lets ES module handlers import packages from
 * NODE_PATH (wsgate's AWS SDK v3), as CommonJS handlers can, so unbundled ESM code finds the SDK as it does
 * in the Lambda Node.js runtime. A bare specifier that fails to resolve is retried from the NODE_PATH folder.
 */
const { register } = require('module');
const path = require('path');
const { pathToFileURL } = require('url');

const folders = (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean);
if (typeof register === 'function' && folders.length > 0) {
  const hook = `
    const parents = ${JSON.stringify(folders.map((f) => pathToFileURL(path.join(f, 'wsgate-node-path-anchor.js')).href))};
    export async function resolve(specifier, context, nextResolve) {
      try {
        return await nextResolve(specifier, context);
      } catch (error) {
        const bare = !/^(\\.|\\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
        if (!bare || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
        for (const parentURL of parents) {
          try {
            return await nextResolve(specifier, { ...context, parentURL });
          } catch {}
        }
        throw error;
      }
    }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
