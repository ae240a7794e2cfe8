//! Shared helpers for the cache's integration tests: a controllable provider wrapper, a loader
//! error type, and a counting loader.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use slod_cache::providers::MemoryProvider;
use slod_cache::{
    CacheError, CacheProvider, Family, Key, Payload, PayloadFormat, ProviderError, Read, Token,
    WriteOutcome,
};

/// The loader error used in tests: cloneable, and able to carry cache errors.
#[derive(Clone, Debug, PartialEq)]
pub enum TestError {
    Loader(String),
    Cache(CacheError),
}

impl From<CacheError> for TestError {
    fn from(e: CacheError) -> Self {
        TestError::Cache(e)
    }
}

/// How the wrapped provider behaves right now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Healthy,
    /// Every call fails at once.
    Failing,
    /// Every call sleeps this long before answering.
    Slow(Duration),
    /// Invalidations fail; reads and writes work.
    FailingInvalidations,
}

/// A provider that delegates to a memory provider but can fail or stall on command, declares
/// itself remote (so the timeout and breaker apply), and can ask for byte payloads.
pub struct Controlled {
    inner: MemoryProvider,
    mode: Mutex<Mode>,
    format: PayloadFormat,
    pub calls: AtomicUsize,
}

impl Controlled {
    pub fn new(format: PayloadFormat) -> Arc<Self> {
        Arc::new(Controlled {
            inner: MemoryProvider::default(),
            mode: Mutex::new(Mode::Healthy),
            format,
            calls: AtomicUsize::new(0),
        })
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Stores raw bytes under `key` as if another build had written them.
    pub async fn plant_bytes(&self, key: &Key, bytes: &[u8]) {
        let Read::Miss(token) = self.inner.read(key).await.unwrap() else {
            panic!("key already cached")
        };
        let outcome = self
            .inner
            .write(
                key,
                &token,
                Payload::Bytes(bytes.into()),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        assert_eq!(outcome, WriteOutcome::Stored);
    }

    async fn enter(&self, invalidation: bool) -> Result<(), ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mode = *self.mode.lock().unwrap();
        match mode {
            Mode::Healthy => Ok(()),
            Mode::Failing => Err(ProviderError("injected failure".into())),
            Mode::FailingInvalidations if invalidation => {
                Err(ProviderError("injected invalidation failure".into()))
            }
            Mode::FailingInvalidations => Ok(()),
            Mode::Slow(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }
}

#[async_trait]
impl CacheProvider for Controlled {
    fn kind(&self) -> &'static str {
        "controlled"
    }
    fn payload_format(&self) -> PayloadFormat {
        self.format
    }
    fn is_remote(&self) -> bool {
        true
    }
    async fn read(&self, key: &Key) -> Result<Read, ProviderError> {
        self.enter(false).await?;
        self.inner.read(key).await
    }
    async fn write(
        &self,
        key: &Key,
        token: &Token,
        payload: Payload,
        ttl: Duration,
    ) -> Result<WriteOutcome, ProviderError> {
        self.enter(false).await?;
        self.inner.write(key, token, payload, ttl).await
    }
    async fn invalidate(&self, key: &Key) -> Result<(), ProviderError> {
        self.enter(true).await?;
        self.inner.invalidate(key).await
    }
    async fn invalidate_family(&self, family: &Family) -> Result<(), ProviderError> {
        self.enter(true).await?;
        self.inner.invalidate_family(family).await
    }
    fn same_generation(&self, key: &Key, flight: &Token, reader: &Token) -> bool {
        self.inner.same_generation(key, flight, reader)
    }
    fn bookkeeping_len(&self) -> usize {
        self.inner.bookkeeping_len()
    }
}

/// Counts loader calls.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub fn bump(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}
