// Resolves every *.localhost name to loopback, as RFC 6761 asks and as browsers and
// systemd-resolved already do; glibc's resolver does not. The local cloud serves Key Vault at
// https://<vault>.vault.localhost because the Key Vault SDK requires the vault host to sit under
// the challenge's resource host (vault.azure.net in Azure). Loaded only by the local run
// (NODE_OPTIONS=--require), never on AKS; the services' code does not know it exists.
'use strict';
const dns = require('node:dns');

const originalLookup = dns.lookup;
const originalPromisesLookup = dns.promises.lookup;
const isLocalhostSubdomain = (hostname) =>
  typeof hostname === 'string' && /\.localhost\.?$/i.test(hostname);

function loopback(options) {
  const family = typeof options === 'number' ? options : options && options.family;
  const all = typeof options === 'object' && options !== null && options.all;
  const address =
    family === 6 ? { address: '::1', family: 6 } : { address: '127.0.0.1', family: 4 };
  return all ? [address] : address;
}

dns.lookup = function lookup(hostname, options, callback) {
  if (!isLocalhostSubdomain(hostname)) return originalLookup.apply(this, arguments);
  const cb = typeof options === 'function' ? options : callback;
  const result = loopback(typeof options === 'function' ? undefined : options);
  process.nextTick(() =>
    Array.isArray(result) ? cb(null, result) : cb(null, result.address, result.family),
  );
  return {};
};

dns.promises.lookup = async function lookup(hostname, options) {
  if (!isLocalhostSubdomain(hostname)) return originalPromisesLookup.call(this, hostname, options);
  return loopback(options);
};
