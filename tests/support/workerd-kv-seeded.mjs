// The KV service of workerd-kv.mjs, started with the entries of `seed.json`, a module the config
// written by tests/support/workerd.mjs (`kvSeed`) embeds: the store is filled in the service's
// global scope, at workerd's start, before any request.
import kv, { load } from './workerd-kv.mjs';
import seed from './seed.json';

load(seed);

export default kv;
