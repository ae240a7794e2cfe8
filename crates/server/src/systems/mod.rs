//! Systems and their dependencies: the service that registers, changes and deletes them, and
//! their routes. A change of a system's upstreams (or its deletion) moves the objectives of
//! everything downstream of it, so its effects go through `crate::timeline`.

pub mod routes;

use jiff::Timestamp;
use serde::Deserialize;
use slod_store::{NewSystem, System, SystemHealth, SystemPatch};

use crate::error::{ServiceError, ServiceResult};
use crate::ids::{SystemId, TypedId};
use crate::paging::Paging;
use crate::signals::{Signal, SystemRef};
use crate::state::Core;
use crate::timeline;
use crate::validation::{nullable, Problems};
use crate::views::downstream;
use crate::work::Mutation;

pub use crate::views::SystemList;

const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 2000;
const MAX_DEPENDENCIES: usize = 100;

/// A system to register.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSystem {
    /// `[a-z0-9][a-z0-9._-]{0,63}`; a UUID is generated when absent.
    #[schema(value_type = Option<SystemId>)]
    pub id: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Ids of the systems this one depends on (at most 100; each must exist).
    #[serde(default)]
    #[schema(value_type = Vec<SystemId>, max_items = 100)]
    pub depends_on: Vec<String>,
}

/// Changes to a system; omitted fields keep their values, `description: null` clears it.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSystem {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    #[schema(value_type = Option<Vec<SystemId>>, max_items = 100)]
    pub depends_on: Option<Vec<String>>,
}

fn check_dependencies(problems: &mut Problems, deps: &[String]) -> Vec<String> {
    if deps.len() > MAX_DEPENDENCIES {
        problems.add(
            "dependsOn",
            format!("at most {MAX_DEPENDENCIES} dependencies"),
        );
    }
    problems
        .ids::<SystemId>("dependsOn", deps)
        .into_iter()
        .map(String::from)
        .collect()
}

/// The systems service. Cheap to clone.
#[derive(Clone)]
pub struct Systems(Core);

impl axum::extract::FromRef<crate::state::AppState> for Systems {
    fn from_ref(state: &crate::state::AppState) -> Self {
        Systems(Core::of(state))
    }
}

impl Systems {
    /// The service over `core`.
    pub fn new(core: Core) -> Self {
        Systems(core)
    }

    /// Registers a system. Errors: invalid fields, a duplicate id (conflict), an unknown
    /// dependency (invalid `dependsOn`).
    pub async fn create(&self, input: CreateSystem) -> ServiceResult<System> {
        let mut problems = Problems::default();
        if input
            .id
            .as_deref()
            .is_some_and(|id| SystemId::parse(id).is_none())
        {
            problems.add("id", "must match [a-z0-9][a-z0-9._-]{0,63}");
        }
        problems.text("name", &input.name, MAX_NAME);
        problems.optional_text("description", input.description.as_deref(), MAX_DESCRIPTION);
        let depends_on = check_dependencies(&mut problems, &input.depends_on);
        problems.into_result()?;
        let new = NewSystem {
            id: input.id,
            name: input.name.trim().to_owned(),
            description: input.description,
            depends_on,
        };
        let views = &self.0.views;
        let mut work = self.0.begin(Mutation::CreateSystem).await?;
        let system = work.tx().create_system(new, Timestamp::now()).await?;
        timeline::upstreams_moved(&mut work, views, &system.id, &[], true).await?;
        work.signal(Signal::SystemChanged(SystemRef {
            system_id: system.id.clone(),
        }));
        work.commit().await?;
        Ok(system)
    }

    /// Changes a system; omitted fields keep their values.
    pub async fn update(&self, id: &SystemId, input: UpdateSystem) -> ServiceResult<System> {
        let mut problems = Problems::default();
        if let Some(name) = &input.name {
            problems.text("name", name, MAX_NAME);
        }
        problems.optional_text(
            "description",
            input.description.clone().flatten().as_deref(),
            MAX_DESCRIPTION,
        );
        let depends_on = input
            .depends_on
            .as_deref()
            .map(|deps| check_dependencies(&mut problems, deps));
        problems.into_result()?;
        let patch = SystemPatch {
            name: input.name.map(|n| n.trim().to_owned()),
            description: input.description,
            depends_on,
        };
        let views = &self.0.views;
        let mut work = self.0.begin(Mutation::UpdateSystem).await?;
        let before = downstream(&work.tx().dependency_graph().await?, id.as_str());
        let system = work
            .tx()
            .update_system(id.as_str(), patch, Timestamp::now())
            .await?;
        timeline::upstreams_moved(&mut work, views, id.as_str(), &before, true).await?;
        work.signal(Signal::SystemChanged(SystemRef {
            system_id: id.to_string(),
        }));
        work.commit().await?;
        Ok(system)
    }

    /// Deletes a system with its checks, results, timeline and objectives; its downstream
    /// systems lose the dependency.
    pub async fn delete(&self, id: &SystemId) -> ServiceResult<()> {
        let views = &self.0.views;
        let mut work = self.0.begin(Mutation::DeleteSystem).await?;
        let before = downstream(&work.tx().dependency_graph().await?, id.as_str());
        let deleted = work
            .tx()
            .delete_system(id.as_str())
            .await?
            .ok_or_else(|| ServiceError::not_found(SystemId::KIND, id.as_str()))?;
        for o in &deleted.objectives {
            work.invalidate([views.statuses.owner_changed(o)]);
        }
        let system = [id.to_string()];
        for incident in &deleted.incidents {
            work.invalidate(views.incidents.changed(incident, &system));
        }
        for window in &deleted.maintenances {
            work.invalidate(views.maintenance.changed(window, &system));
        }
        work.invalidate(views.incidents.system_deleted(id.as_str()));
        work.invalidate(views.maintenance.system_deleted(id.as_str()));
        work.signal(Signal::SystemDeleted(SystemRef {
            system_id: id.to_string(),
        }));
        timeline::upstreams_moved(&mut work, views, id.as_str(), &before, false).await?;
        work.commit().await
    }

    /// A page of systems, ordered by id.
    pub async fn list(&self, paging: &Paging) -> ServiceResult<SystemList> {
        self.0.views.topology.systems(paging).await
    }

    /// One system.
    pub async fn get(&self, id: &SystemId) -> ServiceResult<System> {
        self.0
            .views
            .topology
            .system(id)
            .await?
            .ok_or_else(|| ServiceError::not_found(SystemId::KIND, id.as_str()))
    }

    /// A system's rolled-up health with its checks' latest results.
    pub async fn health(&self, id: &SystemId) -> ServiceResult<SystemHealth> {
        self.0
            .views
            .health
            .of(id)
            .await?
            .ok_or_else(|| ServiceError::not_found(SystemId::KIND, id.as_str()))
    }

    /// Fails with not found unless `id` names a system (read through the cache).
    pub async fn require(&self, id: &SystemId) -> ServiceResult<()> {
        self.get(id).await.map(|_| ())
    }
}
