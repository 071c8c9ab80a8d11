// A Redis adapter for node-oidc-provider, for bench/run.py's NOP+Redis column: NOP's storage
// model as its documentation describes it for Redis (the adapter API of NOP's README,
// "adapter", and its example Redis adapter), written here for the benchmark.
//
//   <prefix><Model>:<id>       the model's payload. Models that are consumed (codes, refresh
//                              tokens) are a hash {payload: JSON, consumed: epoch seconds}, so
//                              consume() sets one field without rewriting the payload; the
//                              others are a JSON string. Both expire with the model's TTL.
//   <prefix>grant:<grantId>    a set of the model keys issued under a grant, for
//                              revokeByGrantId (NOP revokes a grant's tokens when a refresh
//                              token or a code is used twice); it lives as long as its
//                              longest-lived member.
//   <prefix>uid:<uid>          Session uid -> session id (findByUid)
//   <prefix>userCode:<code>    device flow user code -> device code id (findByUserCode)
//
// Each upsert is one MULTI/EXEC round trip; find, consume and destroy one command each.
// ioredis with its defaults (no auto-pipelining), one connection shared by every model.

import Redis from 'ioredis';

// Models issued under a grant (NOP's own in-memory adapter keeps the same list).
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

// Models NOP marks used with adapter.consume(id).
const CONSUMABLE = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
  'PushedAuthorizationRequest',
]);

const grantKey = (grantId) => `grant:${grantId}`;
const uidKey = (uid) => `uid:${uid}`;
const userCodeKey = (code) => `userCode:${code}`;

// consume: mark the hash used only while it exists (HSET alone would recreate an expired or
// destroyed model as a hash without payload and without TTL).
const CONSUME_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HSET', KEYS[1], 'consumed', ARGV[1])
end
return 0`;

export function createRedisAdapter(url, prefix) {
  const client = new Redis(url, { keyPrefix: prefix });
  client.defineCommand('consumeModel', { numberOfKeys: 1, lua: CONSUME_SCRIPT });

  class RedisAdapter {
    constructor(model) {
      this.model = model;
      this.consumable = CONSUMABLE.has(model);
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const ttl = typeof expiresIn === 'number' && expiresIn > 0 ? Math.ceil(expiresIn) : null;
      const multi = client.multi();
      if (this.consumable) {
        multi.del(key); // a re-save starts from a fresh hash (no stale "consumed")
        multi.hset(key, 'payload', JSON.stringify(payload));
        if (ttl) multi.expire(key, ttl);
      } else if (ttl) {
        multi.set(key, JSON.stringify(payload), 'EX', ttl);
      } else {
        multi.set(key, JSON.stringify(payload));
      }
      if (GRANTABLE.has(this.model) && payload.grantId) {
        const members = grantKey(payload.grantId);
        multi.sadd(members, key);
        if (ttl) {
          // A new set gets the TTL (NX); an existing one only ever lengthens it (GT). NOP
          // gives every grantable model a TTL (its ttl configuration).
          multi.expire(members, ttl, 'NX');
          multi.expire(members, ttl, 'GT');
        }
      }
      if (this.model === 'Session' && payload.uid) {
        if (ttl) multi.set(uidKey(payload.uid), id, 'EX', ttl);
        else multi.set(uidKey(payload.uid), id);
      }
      if (payload.userCode) {
        if (ttl) multi.set(userCodeKey(payload.userCode), id, 'EX', ttl);
        else multi.set(userCodeKey(payload.userCode), id);
      }
      const results = await multi.exec();
      for (const [error] of results) if (error) throw error;
    }

    async find(id) {
      if (!id) return undefined;
      if (!this.consumable) {
        const data = await client.get(this.key(id));
        return data === null ? undefined : JSON.parse(data);
      }
      const { payload, consumed } = await client.hgetall(this.key(id));
      if (payload === undefined) return undefined;
      const found = JSON.parse(payload);
      if (consumed !== undefined) found.consumed = Number(consumed);
      return found;
    }

    async findByUid(uid) {
      return this.find(await client.get(uidKey(uid)));
    }

    async findByUserCode(userCode) {
      return this.find(await client.get(userCodeKey(userCode)));
    }

    async consume(id) {
      await client.consumeModel(this.key(id), Math.floor(Date.now() / 1000));
    }

    async destroy(id) {
      await client.del(this.key(id));
    }

    // Every model key issued under the grant, then the set itself: two round trips, as in
    // NOP's example adapter (a token saved under the grant in between would outlive it).
    async revokeByGrantId(grantId) {
      const members = grantKey(grantId);
      const keys = await client.smembers(members);
      await client.del(...keys, members);
    }
  }

  return { Adapter: RedisAdapter, client };
}
