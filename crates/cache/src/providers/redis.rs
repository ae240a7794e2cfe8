//! The Redis provider: the generation guard lives in Redis, so it holds across replicas.
//!
//! Per key `<ns>:<scope>:<key>` a hash `{s: stamp, d: data}` with the value's TTL; per key a
//! counter `<ns>:<scope>:<key>#gen` and per family a counter `<ns>:<scope>:<family>#gen` (`#`
//! never occurs in a key, so these cannot collide with values). The stamp of a value is the
//! counters it was loaded under, joined with commas. Lua scripts, loaded once and called
//! by SHA, keep every step atomic:
//! - read: the counters and the value in one round trip; a value whose stamp differs from the
//!   current counters is stale and reads as a miss carrying the current counters as its token
//!   (a batch reads all its keys in one call of the same logic);
//! - write: stores only if the counters still equal the token;
//! - invalidate: `INCR` the key's counter and `UNLINK` its value; a family: one `INCR`, O(1) in
//!   the number of keys (no SCAN, no KEYS).
//!
//! Each stored value also gets a version (the namespace's write counter, `<ns>#writes`), kept
//! in the hash and as `<stamp>|<version>` under `<ns>:<scope>:<key>#v`: a near cache asks for
//! many keys' counters and versions in one MGET (see `near`).
//!
//! Counters expire after a week without invalidation (so they do not pile up); a counter that
//! expired reads as 0 again, which could only revive a stale write from a load that took a week.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use crate::key::{Family, Key};
use crate::provider::{
    CacheProvider, Payload, PayloadFormat, ProviderError, Read, Token, WriteOutcome,
};
use crate::CacheError;

/// How long an untouched generation counter is kept.
const COUNTER_TTL_MS: u64 = 7 * 24 * 3600 * 1000;

const READ: &str = r"
local current = redis.call('MGET', unpack(KEYS, 2))
for i = 1, #current do if not current[i] then current[i] = '0' end end
local token = table.concat(current, ',')
local value = redis.call('HMGET', KEYS[1], 's', 'd')
if value[1] == token and value[2] then return {1, value[2]} end
return {0, token}
";

/// `READ` for many keys in one script: `KEYS` holds each key's value key then its counters,
/// `ARGV[i]` the number of counters of key `i`. One script per batch instead of one per key:
/// a warm bulk-status of 1,000 systems is one Lua call, not 1,000.
const READ_MANY: &str = r"
local out = {}
local k = 1
for i = 1, #ARGV do
  local n = tonumber(ARGV[i])
  local current = redis.call('MGET', unpack(KEYS, k + 1, k + n))
  for j = 1, n do if not current[j] then current[j] = '0' end end
  local token = table.concat(current, ',')
  local value = redis.call('HMGET', KEYS[k], 's', 'd', 'w')
  if value[1] == token and value[2] then
    out[i] = {1, value[2], tonumber(value[3]) or 0, redis.call('PTTL', KEYS[k])}
  else
    out[i] = {0, token, 0, 0}
  end
  k = k + n + 1
end
return out
";

/// Stores under the token's stamp, with a version from the namespace's write counter
/// (`KEYS[2]`), unique across replicas, also kept as `<stamp>|<version>` in the key's version
/// key (`KEYS[3]`) so that a near cache can check many keys with one MGET: a near copy is the
/// stored value only while the stored version is still its own. Returns the version, or 0 when
/// refused.
const WRITE: &str = r"
local current = redis.call('MGET', unpack(KEYS, 4))
for i = 1, #current do if not current[i] then current[i] = '0' end end
if table.concat(current, ',') ~= ARGV[1] then return 0 end
local version = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 's', ARGV[1], 'd', ARGV[3], 'w', version)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1] .. '|' .. version, 'PX', ARGV[2])
return version
";

const INVALIDATE: &str = r"
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if KEYS[2] then redis.call('UNLINK', unpack(KEYS, 2)) end
return 1
";

/// The provider for several replicas sharing one Redis.
#[derive(Clone)]
pub struct RedisProvider {
    connection: ConnectionManager,
    namespace: String,
    read: Script,
    read_many: Script,
    write: Script,
    invalidate: Script,
}

/// The generations of a stamp or token (`3,0,12`); a counter that is not a number matches
/// nothing.
fn parse_generations(text: &str) -> Vec<u64> {
    text.split(',')
        .map(|g| g.parse::<u64>().unwrap_or(u64::MAX))
        .collect()
}

fn failed(e: redis::RedisError) -> ProviderError {
    ProviderError(e.to_string())
}

impl RedisProvider {
    /// A provider for `url` (`redis://host:port/db`), with every key under `namespace:`.
    /// Connects lazily and reconnects by itself, so slod starts (and reads fall through to the
    /// database) while Redis is down.
    pub fn connect(url: &str, namespace: &str) -> Result<Self, CacheError> {
        if namespace.is_empty() || namespace.contains(char::is_whitespace) {
            return Err(CacheError::InvalidConfig(format!(
                "invalid cache namespace {namespace:?}"
            )));
        }
        let client = redis::Client::open(url)
            .map_err(|e| CacheError::InvalidConfig(format!("redis url: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| CacheError::InvalidConfig(format!("redis: {e}")))?;
        Ok(RedisProvider {
            connection,
            namespace: namespace.to_owned(),
            read: Script::new(READ),
            read_many: Script::new(READ_MANY),
            write: Script::new(WRITE),
            invalidate: Script::new(INVALIDATE),
        })
    }

    fn value_key(&self, key: &Key) -> String {
        format!("{}:{}", self.namespace, key.as_str())
    }

    /// The key holding `<stamp>|<version>` of the key's stored value.
    fn version_key(&self, key: &Key) -> String {
        format!("{}:{}#v", self.namespace, key.as_str())
    }

    /// The counters a key's values are stamped with: its own, then one per family.
    fn counter_keys(&self, key: &Key) -> Vec<String> {
        std::iter::once(format!("{}:{}#gen", self.namespace, key.as_str()))
            .chain(
                key.families()
                    .map(|f| format!("{}:{f}#gen", self.namespace)),
            )
            .collect()
    }

    fn answer(&self, (hit, data): (i64, Vec<u8>)) -> Result<Read, ProviderError> {
        if hit == 1 {
            return Ok(Read::Hit(Payload::Bytes(data.into())));
        }
        let text = String::from_utf8(data)
            .map_err(|_| ProviderError("a token that is not text".into()))?;
        Ok(Read::Miss(Token::new(parse_generations(&text))))
    }

    fn read_invocation(&self, key: &Key) -> redis::ScriptInvocation<'_> {
        let mut invocation = self.read.key(self.value_key(key));
        for counter in self.counter_keys(key) {
            invocation.key(counter);
        }
        invocation
    }
}

#[async_trait]
impl CacheProvider for RedisProvider {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn payload_format(&self) -> PayloadFormat {
        PayloadFormat::Bytes
    }

    fn is_remote(&self) -> bool {
        true
    }

    async fn read(&self, key: &Key) -> Result<Read, ProviderError> {
        let raw = self
            .read_invocation(key)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(failed)?;
        self.answer(raw)
    }

    async fn read_many(&self, keys: &[Key]) -> Result<Vec<Read>, ProviderError> {
        // One script call for the whole batch (`invoke_async` loads the script and retries if
        // Redis lost its script cache, after a restart).
        let mut invocation = self.read_many.prepare_invoke();
        for key in keys {
            let counters = self.counter_keys(key);
            invocation.key(self.value_key(key));
            invocation.arg(counters.len());
            for counter in counters {
                invocation.key(counter);
            }
        }
        let raw: Vec<(i64, Vec<u8>, u64, i64)> = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(failed)?;
        raw.into_iter()
            .map(|(hit, data, version, ttl_left_ms)| {
                if hit != 1 || version == 0 {
                    return self.answer((hit, data));
                }
                Ok(Read::Versioned {
                    payload: Payload::Bytes(data.into()),
                    version,
                    ttl_left: Duration::from_millis(ttl_left_ms.max(0) as u64),
                })
            })
            .collect()
    }

    fn has_versions(&self) -> bool {
        true
    }

    async fn versions(&self, keys: &[Key]) -> Option<Result<Vec<Option<u64>>, ProviderError>> {
        // One MGET, atomic: every counter the keys are stamped with (a family's once, however
        // many keys share it), then every key's `<stamp>|<version>`. A version counts only when
        // its stamp is the counters' current value.
        let per_key: Vec<Vec<String>> = keys.iter().map(|k| self.counter_keys(k)).collect();
        let mut position: HashMap<&str, usize> = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        for counter in per_key.iter().flatten() {
            position.entry(counter.as_str()).or_insert_with(|| {
                names.push(counter.clone());
                names.len() - 1
            });
        }
        let counters = names.len();
        names.extend(keys.iter().map(|k| self.version_key(k)));
        let read: Result<Vec<Option<String>>, _> = redis::cmd("MGET")
            .arg(&names)
            .query_async(&mut self.connection.clone())
            .await;
        Some(read.map_err(failed).and_then(|values| {
            if values.len() != names.len() {
                return Err(ProviderError("versions: a short answer".into()));
            }
            let (current, stored) = values.split_at(counters);
            Ok(per_key
                .iter()
                .zip(stored)
                .map(|(mine, stored)| {
                    let token: Vec<&str> = mine
                        .iter()
                        .map(|c| current[position[c.as_str()]].as_deref().unwrap_or("0"))
                        .collect();
                    let (stamp, version) = stored.as_deref()?.rsplit_once('|')?;
                    (stamp == token.join(",")).then(|| version.parse().ok())?
                })
                .collect())
        }))
    }

    async fn write(
        &self,
        key: &Key,
        token: &Token,
        payload: Payload,
        ttl: Duration,
    ) -> Result<WriteOutcome, ProviderError> {
        let Payload::Bytes(data) = payload else {
            return Err(ProviderError(
                "the redis provider stores encoded bytes".into(),
            ));
        };
        let stamp = token
            .generations()
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut invocation = self.write.key(self.value_key(key));
        invocation.key(format!("{}#writes", self.namespace));
        invocation.key(self.version_key(key));
        for counter in self.counter_keys(key) {
            invocation.key(counter);
        }
        invocation
            .arg(stamp)
            .arg(ttl.as_millis().max(1) as u64)
            .arg(&data[..]);
        let stored: i64 = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(failed)?;
        Ok(if stored > 0 {
            WriteOutcome::StoredAs(stored as u64)
        } else {
            WriteOutcome::Refused
        })
    }

    async fn invalidate(&self, key: &Key) -> Result<(), ProviderError> {
        let counter = format!("{}:{}#gen", self.namespace, key.as_str());
        let _: i64 = self
            .invalidate
            .key(counter)
            .key(self.value_key(key))
            .key(self.version_key(key))
            .arg(COUNTER_TTL_MS)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn invalidate_family(&self, family: &Family) -> Result<(), ProviderError> {
        let counter = format!("{}:{}#gen", self.namespace, family.as_str());
        let _: i64 = self
            .invalidate
            .key(counter)
            .arg(COUNTER_TTL_MS)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(failed)?;
        Ok(())
    }
}
