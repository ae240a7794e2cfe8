//! The `none` provider: caching switched off. Every read misses and nothing is stored, but
//! loads are still single-flight, so a thundering herd still costs one load.

use std::time::Duration;

use async_trait::async_trait;

use crate::key::{Family, Key, KeyRef};
use crate::provider::{
    CacheProvider, Payload, PayloadFormat, ProviderError, Read, Token, WriteOutcome,
};

/// Always a miss, never an error.
#[derive(Debug, Default)]
pub struct NoneProvider;

#[async_trait]
impl CacheProvider for NoneProvider {
    fn kind(&self) -> &'static str {
        "none"
    }

    fn payload_format(&self) -> PayloadFormat {
        PayloadFormat::Object
    }

    fn is_remote(&self) -> bool {
        false
    }

    fn read_now(&self, _key: KeyRef<'_>) -> Option<Read> {
        Some(Read::Miss(Token::new(Vec::new())))
    }

    async fn read(&self, _key: &Key) -> Result<Read, ProviderError> {
        Ok(Read::Miss(Token::new(Vec::new())))
    }

    async fn write(
        &self,
        _key: &Key,
        _token: &Token,
        _payload: Payload,
        _ttl: Duration,
    ) -> Result<WriteOutcome, ProviderError> {
        Ok(WriteOutcome::Discarded)
    }

    async fn invalidate(&self, _key: &Key) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn invalidate_family(&self, _family: &Family) -> Result<(), ProviderError> {
        Ok(())
    }
}
