//! Health checks and their results: the service that adds, changes and removes checks and
//! records results (pushed by agents, or from slod's own probes), and their routes.
//!
//! Recording a result, or changing a system's set of checks, moves the system's health and
//! timeline inside the store transaction that commits it; the store reports how it moved
//! (`slod_store::HealthMove`), and `crate::timeline` turns that into invalidations and signals.

pub mod routes;
mod rules;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use slod_engine::CheckStatus;
use slod_store::{Check, CheckKind, CheckPatch, CheckResult, Ingested, NewCheck, NewResult};

use crate::error::{ServiceError, ServiceResult};
use crate::ids::{CheckId, SystemId, TypedId};
use crate::signals::{ObjectiveRef, Signal};
use crate::state::Core;
use crate::timeline;
use crate::validation::{nullable, Problems};
use crate::work::Mutation;

/// Most results one request may carry.
pub const MAX_BATCH: usize = 1000;
const MAX_NAME: usize = 200;
const MAX_MESSAGE: usize = 1000;

/// A check to add to a system.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCheck {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: CheckKind,
    /// An `http://` or `https://` URL with a host for `http`, `host:port` for `tcp`; absent
    /// for `push`.
    #[schema(min_length = 1, max_length = 2048)]
    pub target: Option<String>,
    /// Seconds between probes, 5..=86400, default 60.
    #[schema(minimum = 5, maximum = 86400)]
    pub interval_seconds: Option<u64>,
    /// Milliseconds a probe may take, 100..=60000, default 5000.
    #[schema(minimum = 100, maximum = 60000)]
    pub timeout_ms: Option<u64>,
    /// Accepted HTTP statuses `[min, max]` with min <= max, default `[200, 299]`.
    #[schema(value_type = Option<Vec<HttpStatus>>, min_items = 2, max_items = 2)]
    pub expect_status: Option<[u16; 2]>,
    pub enabled: Option<bool>,
}

/// Changes to a check; omitted fields keep their values. The kind cannot change.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCheck {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 2048)]
    pub target: Option<Option<String>>,
    #[schema(minimum = 5, maximum = 86400)]
    pub interval_seconds: Option<u64>,
    #[schema(minimum = 100, maximum = 60000)]
    pub timeout_ms: Option<u64>,
    #[schema(value_type = Option<Vec<HttpStatus>>, min_items = 2, max_items = 2)]
    pub expect_status: Option<[u16; 2]>,
    pub enabled: Option<bool>,
}

/// One result of a check run.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultInput {
    pub status: CheckStatus,
    /// When the check ran (default: now). May lie in the past; per check, in time order.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default, deserialize_with = "crate::validation::optional_rfc3339")]
    pub at: Option<Timestamp>,
    /// Milliseconds, >= 0.
    #[schema(minimum = 0)]
    pub latency_ms: Option<f64>,
    #[schema(max_length = 1000)]
    pub message: Option<String>,
}

/// Several results, oldest first.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultBatch {
    /// 1..=1000 results, oldest first.
    #[schema(min_items = 1, max_items = 1000)]
    pub results: Vec<ResultInput>,
}

/// An HTTP status code.
pub struct HttpStatus;

impl utoipa::PartialSchema for HttpStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(100))
            .maximum(Some(599))
            .into()
    }
}

impl utoipa::ToSchema for HttpStatus {}

/// The body of `POST /checks/{checkId}/results`: one result, or `{"results": [...]}`.
///
/// Read through one struct with every field optional, so that a mistake is reported at its
/// path (`results[3].status`) rather than as "matches neither shape", as a derived
/// `untagged` enum would.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ResultsBody {
    Batch(ResultBatch),
    One(ResultInput),
}

/// Either shape, as sent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EitherShape {
    results: Option<Vec<ResultInput>>,
    status: Option<CheckStatus>,
    #[serde(default, deserialize_with = "crate::validation::optional_rfc3339")]
    at: Option<Timestamp>,
    latency_ms: Option<f64>,
    message: Option<String>,
}

impl<'de> Deserialize<'de> for ResultsBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let body = EitherShape::deserialize(deserializer)?;
        let single = body.status.is_some()
            || body.at.is_some()
            || body.latency_ms.is_some()
            || body.message.is_some();
        match (body.results, body.status) {
            (Some(_), _) if single => Err(D::Error::custom(
                "a batch holds only `results`; one result has `status`, `at`, `latencyMs`, `message`",
            )),
            (Some(results), _) => Ok(ResultsBody::Batch(ResultBatch { results })),
            (None, Some(status)) => Ok(ResultsBody::One(ResultInput {
                status,
                at: body.at,
                latency_ms: body.latency_ms,
                message: body.message,
            })),
            (None, None) => Err(D::Error::missing_field("status")),
        }
    }
}

impl ResultsBody {
    /// The results to record, validated (each problem named by its place in the batch).
    fn into_results(self) -> ServiceResult<Vec<NewResult>> {
        let mut problems = Problems::default();
        let results = match self {
            ResultsBody::One(one) => vec![to_new_result(&mut problems, "", one)],
            ResultsBody::Batch(batch) => {
                if batch.results.is_empty() || batch.results.len() > MAX_BATCH {
                    problems.add("results", format!("must hold 1 to {MAX_BATCH} results"));
                }
                batch
                    .results
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| to_new_result(&mut problems, &format!("results[{i}]."), r))
                    .collect()
            }
        };
        problems.into_result()?;
        Ok(results)
    }
}

fn to_new_result(problems: &mut Problems, prefix: &str, input: ResultInput) -> NewResult {
    if input.latency_ms.is_some_and(|l| !l.is_finite() || l < 0.0) {
        problems.add(&format!("{prefix}latencyMs"), "must be a number >= 0");
    }
    problems.optional_text(
        &format!("{prefix}message"),
        input.message.as_deref(),
        MAX_MESSAGE,
    );
    NewResult {
        status: input.status,
        at: input.at,
        latency_ms: input.latency_ms,
        message: input.message,
    }
}

/// The checks service. Cheap to clone.
#[derive(Clone)]
pub struct Checks(Core);

impl axum::extract::FromRef<crate::state::AppState> for Checks {
    fn from_ref(state: &crate::state::AppState) -> Self {
        Checks(Core::of(state))
    }
}

impl Checks {
    /// The service over `core`.
    pub fn new(core: Core) -> Self {
        Checks(core)
    }

    /// Adds a check to `system`. Its health view lists the new check at once.
    pub async fn create(&self, system: &SystemId, input: CreateCheck) -> ServiceResult<Check> {
        let mut problems = Problems::default();
        problems.text("name", &input.name, MAX_NAME);
        rules::target(&mut problems, input.kind, input.target.as_deref());
        rules::settings(
            &mut problems,
            input.interval_seconds,
            input.timeout_ms,
            input.expect_status,
        );
        problems.into_result()?;
        let new = NewCheck {
            name: input.name.trim().to_owned(),
            kind: input.kind,
            target: input.target,
            interval_seconds: input.interval_seconds.unwrap_or(60) as u32,
            timeout_ms: input.timeout_ms.unwrap_or(5000) as u32,
            expect_status: input.expect_status.unwrap_or([200, 299]),
            enabled: input.enabled.unwrap_or(true),
        };
        let mut work = self.0.begin(Mutation::CreateCheck).await?;
        let check = work
            .tx()
            .create_check(system.as_str(), new, Timestamp::now())
            .await?;
        work.invalidate([self.0.views.health.changed(system.as_str())]);
        work.commit().await?;
        Ok(check)
    }

    /// The checks of a system, oldest first.
    pub async fn list(&self, system: &SystemId) -> ServiceResult<Vec<Check>> {
        Ok(self.0.store.list_checks(system.as_str()).await?)
    }

    /// Changes a check; enabling or disabling it re-rolls its system's health.
    pub async fn update(&self, id: &CheckId, input: UpdateCheck) -> ServiceResult<Check> {
        let mut work = self.0.begin(Mutation::UpdateCheck).await?;
        let current = work
            .tx()
            .get_check(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(CheckId::KIND, id.as_str()))?;
        let mut problems = Problems::default();
        if let Some(name) = &input.name {
            problems.text("name", name, MAX_NAME);
        }
        if let Some(target) = &input.target {
            rules::target(&mut problems, current.kind, target.as_deref());
        }
        rules::settings(
            &mut problems,
            input.interval_seconds,
            input.timeout_ms,
            input.expect_status,
        );
        problems.into_result()?;
        let patch = CheckPatch {
            name: input.name.map(|n| n.trim().to_owned()),
            target: input.target,
            interval_seconds: input.interval_seconds.map(|v| v as u32),
            timeout_ms: input.timeout_ms.map(|v| v as u32),
            expect_status: input.expect_status,
            enabled: input.enabled,
        };
        let (check, moved) = work
            .tx()
            .update_check(id.as_str(), patch, Timestamp::now())
            .await?;
        timeline::health_moved(&mut work, &self.0.views, &[moved]).await?;
        work.commit().await?;
        Ok(check)
    }

    /// Removes a check with its results, its timeline and the objectives scoped to it.
    pub async fn delete(&self, id: &CheckId) -> ServiceResult<()> {
        let views = &self.0.views;
        let mut work = self.0.begin(Mutation::DeleteCheck).await?;
        let deleted = work
            .tx()
            .delete_check(id.as_str(), Timestamp::now())
            .await?
            .ok_or_else(|| ServiceError::not_found(CheckId::KIND, id.as_str()))?;
        if !deleted.objectives.is_empty() {
            // Its scoped objectives went with it, whether or not the system's health moved.
            work.invalidate(
                views
                    .statuses
                    .changed(std::slice::from_ref(&deleted.system_id)),
            );
        }
        for o in &deleted.objectives {
            work.invalidate([views.statuses.owner_changed(o)]);
        }
        timeline::health_moved(&mut work, views, &[deleted.health]).await?;
        for objective_id in deleted.objectives {
            work.signal(Signal::ObjectiveDeleted(ObjectiveRef {
                system_id: deleted.system_id.clone(),
                objective_id,
            }));
        }
        work.commit().await
    }

    /// Records results of a check (pushed ones, after parsing at the edge).
    pub async fn post_results(&self, id: &CheckId, body: ResultsBody) -> ServiceResult<Ingested> {
        let results = body.into_results()?;
        self.record(id, &results).await
    }

    /// Records `results` of a check, in time order, and moves its system's timeline. Shared by
    /// pushed results and slod's own probes. Errors: an unknown check (not found), a result
    /// older than the check's latest (conflict), one in the future (invalid).
    pub async fn record(&self, id: &CheckId, results: &[NewResult]) -> ServiceResult<Ingested> {
        let mut work = self.0.begin(Mutation::RecordResults).await?;
        let ingested = work
            .tx()
            .record_results(id.as_str(), results, Timestamp::now())
            .await?;
        timeline::health_moved(
            &mut work,
            &self.0.views,
            std::slice::from_ref(&ingested.health),
        )
        .await?;
        work.commit().await?;
        Ok(ingested)
    }

    /// A check's results in `[from, to]`, newest first, at most `limit` (1..=1000).
    pub async fn results(
        &self,
        id: &CheckId,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        limit: Option<u64>,
    ) -> ServiceResult<Vec<CheckResult>> {
        let mut problems = Problems::default();
        problems.range("limit", limit, 1, slod_store::MAX_PAGE as u64);
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                problems.add("from", "must not be after to");
            }
        }
        problems.into_result()?;
        Ok(self
            .0
            .store
            .list_results(id.as_str(), from, to, limit.unwrap_or(100) as usize)
            .await?)
    }
}
