//! What the daily bookkeeping recorded, as reads: snapshots, streaks, achievements,
//! milestones (the writing is `crate::jobs::daily`). They change once a day, so they are read
//! from the store directly; the dashboard's hot paths are the cached ones.

pub mod routes;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use slod_store::{Achievement, Milestone, Snapshot, StreakRecord};

use crate::calendar::day_of;
use crate::error::{ServiceError, ServiceResult};
use crate::ids::{ObjectiveId, SystemId, TypedId};
use crate::state::Core;

/// The bookkeeping reads. Cheap to clone.
#[derive(Clone)]
pub struct Bookkeeping(Core);

impl axum::extract::FromRef<crate::state::AppState> for Bookkeeping {
    fn from_ref(state: &crate::state::AppState) -> Self {
        Bookkeeping(Core::of(state))
    }
}

impl Bookkeeping {
    /// An objective's daily snapshots for days in `[from, to]`, oldest first; by default the
    /// objective's window up to today.
    pub async fn snapshots(
        &self,
        id: &ObjectiveId,
        from: Option<Date>,
        to: Option<Date>,
    ) -> ServiceResult<Vec<Snapshot>> {
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(ServiceError::field("from", "must not be after to"));
            }
        }
        let objective = self
            .0
            .store
            .get_objective(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(ObjectiveId::KIND, id.as_str()))?;
        let to = to.unwrap_or_else(|| day_of(Timestamp::now()));
        let from = match from {
            Some(from) => from,
            None => {
                let window = slod_engine::window::window_at(
                    objective.window_kind,
                    objective.window_days,
                    objective.time_zone.as_deref(),
                    Timestamp::now(),
                )?;
                to.checked_sub(i64::from(window.days).days())
                    .map_err(ServiceError::internal)?
            }
        };
        Ok(self
            .0
            .store
            .list_snapshots(id.as_str(), &from.to_string(), &to.to_string())
            .await?)
    }

    /// Every objective's streak, longest first.
    pub async fn streaks(&self, limit: usize) -> ServiceResult<Vec<StreakRecord>> {
        Ok(self.0.store.list_streaks(limit).await?)
    }

    /// A system's achievements, in the order unlocked.
    pub async fn achievements(&self, system: &SystemId) -> ServiceResult<Vec<Achievement>> {
        if self.0.views.topology.system(system).await?.is_none() {
            return Err(ServiceError::not_found(SystemId::KIND, system.as_str()));
        }
        Ok(self.0.store.list_achievements(system.as_str()).await?)
    }

    /// The latest milestones, newest first.
    pub async fn milestones(&self, limit: usize) -> ServiceResult<Vec<Milestone>> {
        Ok(self.0.store.list_milestones(limit).await?)
    }
}
