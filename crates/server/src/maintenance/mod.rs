//! Maintenance windows: the service that records and cancels them, their cached reads, and
//! their routes.
//!
//! A window's status is derived from time when served (a cached copy is re-stamped), and an
//! objective that excludes maintenance reads its system's windows on every status
//! computation, so a window recorded after the outage it covers corrects the budget at once:
//! its effects drop its systems' statuses and re-signal them.

pub mod routes;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use slod_engine::MaintenanceStatus;
use slod_store::{Maintenance, MaintenanceFilter, NewMaintenance};

use crate::error::{ServiceError, ServiceResult};
use crate::ids::{MaintenanceId, SystemId, TypedId};
use crate::paging::Paging;
use crate::signals::{MaintenanceChanged, Signal};
use crate::state::Core;
use crate::timeline;
use crate::validation::Problems;
use crate::views::MaintenanceList;
use crate::work::{Mutation, Work};

const MAX_TITLE: usize = 200;
/// Longest window accepted: 366 days.
const MAX_LENGTH: SignedDuration = SignedDuration::from_hours(366 * 24);

/// A maintenance window to record; it may lie in the past.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMaintenance {
    /// 1..=100 system ids, each naming a system.
    #[schema(value_type = Vec<SystemId>, min_items = 1, max_items = 100)]
    pub system_ids: Vec<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(deserialize_with = "crate::validation::rfc3339")]
    pub start_at: Timestamp,
    /// After `startAt`, at most 366 days later.
    #[schema(value_type = String, format = DateTime)]
    #[serde(deserialize_with = "crate::validation::rfc3339")]
    pub end_at: Timestamp,
}

/// A system's windows that are scheduled or in progress, soonest first.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SystemMaintenances {
    pub maintenances: Vec<Maintenance>,
}

/// The maintenance service. Cheap to clone.
#[derive(Clone)]
pub struct MaintenanceWindows(Core);

impl axum::extract::FromRef<crate::state::AppState> for MaintenanceWindows {
    fn from_ref(state: &crate::state::AppState) -> Self {
        MaintenanceWindows(Core::of(state))
    }
}

impl MaintenanceWindows {
    /// The service over `core`.
    pub fn new(core: Core) -> Self {
        MaintenanceWindows(core)
    }

    /// Records a window (it may lie in the past).
    pub async fn create(&self, input: CreateMaintenance) -> ServiceResult<Maintenance> {
        let mut problems = Problems::default();
        let system_ids = problems.system_ids("systemIds", &input.system_ids);
        problems.text("title", &input.title, MAX_TITLE);
        if input.end_at <= input.start_at {
            problems.add("endAt", "must be after startAt");
        } else if input.end_at.duration_since(input.start_at) > MAX_LENGTH {
            problems.add("endAt", "a window lasts at most 366 days");
        }
        problems.into_result()?;
        let new = NewMaintenance {
            title: input.title.trim().to_owned(),
            system_ids,
            start_at: input.start_at,
            end_at: input.end_at,
        };
        let mut work = self.0.begin(Mutation::CreateMaintenance).await?;
        let stored = work.tx().create_maintenance(&new, Timestamp::now()).await?;
        self.changed(&mut work, &stored);
        work.commit().await?;
        Ok(stored)
    }

    /// Cancels a window: it then never counts, also for the past.
    pub async fn cancel(&self, id: &MaintenanceId) -> ServiceResult<Maintenance> {
        let now = Timestamp::now();
        let mut work = self.0.begin(Mutation::CancelMaintenance).await?;
        let stored = work
            .tx()
            .cancel_maintenance(id.as_str(), now)
            .await?
            .ok_or_else(|| ServiceError::not_found(MaintenanceId::KIND, id.as_str()))?;
        self.changed(&mut work, &stored);
        work.commit().await?;
        Ok(stored.at(now))
    }

    /// A window was recorded or cancelled: its cached reads, its systems' statuses (only a
    /// system's own objectives read its windows), then `maintenance.changed` per system, then
    /// the new statuses.
    fn changed(&self, work: &mut Work, m: &Maintenance) {
        let views = &self.0.views;
        work.invalidate(views.maintenance.changed(&m.id, &m.system_ids));
        for system in &m.system_ids {
            work.signal(Signal::MaintenanceChanged(MaintenanceChanged {
                maintenance_id: m.id.clone(),
                system_id: system.clone(),
                status: m.status,
            }));
        }
        timeline::statuses_moved(work, views, m.system_ids.clone());
    }

    /// One window, with its status at this instant.
    pub async fn get(&self, id: &MaintenanceId) -> ServiceResult<Maintenance> {
        self.0
            .views
            .maintenance
            .one(id.as_str())
            .await?
            .map(|m| m.at(Timestamp::now()))
            .ok_or_else(|| ServiceError::not_found(MaintenanceId::KIND, id.as_str()))
    }

    /// Windows matching `filter`, latest start first, a page at a time.
    pub async fn list(
        &self,
        filter: MaintenanceFilter,
        paging: Paging,
    ) -> ServiceResult<MaintenanceList> {
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if from > to {
                return Err(ServiceError::field("from", "must not be after to"));
            }
        }
        let page = self.0.views.maintenance.page(filter, paging).await?;
        let now = Timestamp::now();
        Ok(MaintenanceList {
            maintenances: page.items.into_iter().map(|m| m.at(now)).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// A system's windows that are scheduled or in progress, soonest first (re-stamped and
    /// re-filtered now: a cached copy may be up to one TTL old).
    pub async fn for_system(&self, system: &SystemId) -> ServiceResult<SystemMaintenances> {
        if self.0.views.topology.system(system).await?.is_none() {
            return Err(ServiceError::not_found(SystemId::KIND, system.as_str()));
        }
        let upcoming = self.0.views.maintenance.for_system(system.as_str()).await?;
        let now = Timestamp::now();
        let mut maintenances: Vec<Maintenance> = upcoming
            .into_iter()
            .map(|m| m.at(now))
            .filter(|m| {
                matches!(
                    m.status,
                    MaintenanceStatus::Scheduled | MaintenanceStatus::InProgress
                )
            })
            .collect();
        maintenances.sort_by(|a, b| a.start_at.cmp(&b.start_at).then(a.id.cmp(&b.id)));
        Ok(SystemMaintenances { maintenances })
    }
}
