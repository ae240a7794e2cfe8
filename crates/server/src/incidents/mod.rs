//! Incidents: the service that opens and resolves them, their cached reads, and their routes.
//!
//! An incident with `healthOverride` holds its systems unhealthy while open: opening and
//! resolving one moves their timelines in the store (under each system's lock, in the
//! incident's own transaction), so its effects are the timeline rule's (`crate::timeline`)
//! plus its own cached reads and one `incident.changed` per system.

pub mod routes;

use jiff::Timestamp;
use serde::Deserialize;
use slod_store::{HealthMove, Incident, IncidentFilter, NewIncident};

use crate::error::{ServiceError, ServiceResult};
use crate::ids::{IncidentId, SystemId, TypedId};
use crate::paging::Paging;
use crate::signals::{IncidentChanged, Signal};
use crate::state::Core;
use crate::timeline;
use crate::validation::Problems;
use crate::views::{IncidentList, SystemIncidents};
use crate::work::{Mutation, Work};

const MAX_TITLE: usize = 200;

/// An incident to open.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateIncident {
    /// 1..=100 system ids, each naming a system.
    #[schema(value_type = Vec<SystemId>, min_items = 1, max_items = 100)]
    pub system_ids: Vec<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Hold the systems unhealthy while the incident is open (default false).
    #[serde(default)]
    pub health_override: bool,
}

/// The incidents service. Cheap to clone.
#[derive(Clone)]
pub struct Incidents(Core);

impl axum::extract::FromRef<crate::state::AppState> for Incidents {
    fn from_ref(state: &crate::state::AppState) -> Self {
        Incidents(Core::of(state))
    }
}

impl Incidents {
    /// The service over `core`.
    pub fn new(core: Core) -> Self {
        Incidents(core)
    }

    /// Opens an incident. Errors: invalid fields, an unknown system (invalid `systemIds`).
    pub async fn open(&self, input: CreateIncident) -> ServiceResult<Incident> {
        let mut problems = Problems::default();
        let system_ids = problems.system_ids("systemIds", &input.system_ids);
        problems.text("title", &input.title, MAX_TITLE);
        problems.into_result()?;
        let new = NewIncident {
            title: input.title.trim().to_owned(),
            system_ids,
            health_override: input.health_override,
        };
        let mut work = self.0.begin(Mutation::OpenIncident).await?;
        let (incident, moves) = work.tx().open_incident(&new, Timestamp::now()).await?;
        self.changed(&mut work, &incident, &moves).await?;
        work.commit().await?;
        Ok(incident)
    }

    /// Resolves an incident (resolving twice keeps the first time and moves nothing).
    pub async fn resolve(&self, id: &IncidentId) -> ServiceResult<Incident> {
        let mut work = self.0.begin(Mutation::ResolveIncident).await?;
        let (incident, moves) = work
            .tx()
            .resolve_incident(id.as_str(), Timestamp::now())
            .await?
            .ok_or_else(|| ServiceError::not_found(IncidentId::KIND, id.as_str()))?;
        self.changed(&mut work, &incident, &moves).await?;
        work.commit().await?;
        Ok(incident)
    }

    /// An incident opened or was resolved: its cached reads, the timeline rule for every
    /// system it moved, then `incident.changed` per system.
    async fn changed(
        &self,
        work: &mut Work,
        incident: &Incident,
        moves: &[HealthMove],
    ) -> ServiceResult<()> {
        let views = &self.0.views;
        work.invalidate(views.incidents.changed(&incident.id, &incident.system_ids));
        timeline::health_moved(work, views, moves).await?;
        for system in &incident.system_ids {
            work.signal(Signal::IncidentChanged(IncidentChanged {
                incident_id: incident.id.clone(),
                system_id: system.clone(),
                status: incident.status,
            }));
        }
        Ok(())
    }

    /// One incident.
    pub async fn get(&self, id: &IncidentId) -> ServiceResult<Incident> {
        self.0
            .views
            .incidents
            .one(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(IncidentId::KIND, id.as_str()))
    }

    /// Incidents matching `filter`, latest opened first, a page at a time.
    pub async fn list(
        &self,
        filter: IncidentFilter,
        paging: Paging,
    ) -> ServiceResult<IncidentList> {
        let page = self.0.views.incidents.page(filter, paging).await?;
        Ok(IncidentList {
            incidents: page.items,
            next_cursor: page.next_cursor,
        })
    }

    /// A system's open incidents.
    pub async fn for_system(&self, system: &SystemId) -> ServiceResult<SystemIncidents> {
        if self.0.views.topology.system(system).await?.is_none() {
            return Err(ServiceError::not_found(SystemId::KIND, system.as_str()));
        }
        let incidents = self.0.views.incidents.for_system(system.as_str()).await?;
        Ok(SystemIncidents { incidents })
    }
}
