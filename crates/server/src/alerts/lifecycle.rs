//! From what holds to what changes: one evaluation's steps, computed without side effects.
//!
//! For each condition, in dependency order (upstream systems first, then incidents):
//! - muted (every system it is about is in an in-progress maintenance window, or a silence
//!   matches) -> `silenced`;
//! - else blamed on upstreams and one of them has an active alert -> `inhibited`, naming the
//!   root cause (an upstream alert that is itself inhibited passes on its own root);
//! - else `firing`.
//!
//! A condition without an active alert fires one; an active alert whose state differs moves.
//! An active alert whose condition no longer holds records since when, and resolves once that
//! is `resolve_after` old (so it does not flap); one whose subject is gone resolves at once.
//! Evaluating the same world twice yields no steps the second time.

use std::borrow::Cow;
use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use slod_engine::Health;
use slod_store::{
    Alert, AlertKind, AlertMove, AlertSeverity, AlertState, Incident, InhibitedBy, MuteSource,
    NewAlert, Silence, SilencedBy, SubjectType,
};

use super::conditions::{self, key_of, Blame, Condition, Key};
use crate::views::{Layers, SystemObjectives};

/// Everything one evaluation reads.
pub struct World<'a> {
    pub now: Timestamp,
    pub resolve_after: SignedDuration,
    /// Every system, the graph, and the order to walk them in.
    pub layers: &'a Layers,
    /// Each system's objectives with their statuses, in the order of `layers.systems`.
    pub objectives: &'a [SystemObjectives],
    /// Rolled-up health by system (missing: unknown).
    pub health: &'a HashMap<String, Health>,
    /// Open incidents.
    pub incidents: &'a [Incident],
    /// Every active alert.
    pub active: &'a [Alert],
    /// Silences not ended as of their read (each is checked against `now`).
    pub silences: &'a [Silence],
    /// The in-progress maintenance window of each system in one.
    pub maintenance: &'a HashMap<&'a str, &'a str>,
}

/// One change to make, each its own unit of work.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Fire(Box<NewAlert>),
    Move { read: Box<Alert>, next: AlertMove },
}

/// What one evaluation will change, and what is active once it has.
#[derive(Debug)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// The state and kind of every alert active after the steps.
    pub active_after: Vec<(AlertState, AlertKind)>,
}

/// An active alert after this evaluation, as an upstream of someone else.
#[derive(Clone, Debug)]
struct Standing<'a> {
    id: Cow<'a, str>,
    kind: AlertKind,
    severity: AlertSeverity,
    state: AlertState,
    inhibited_by: Option<InhibitedBy>,
}

impl Standing<'_> {
    /// How strongly it explains a downstream alert: pages first, then a system being down,
    /// then tickets by kind.
    fn rank(&self) -> (u8, u8) {
        let severity = match self.severity {
            AlertSeverity::Page => 0,
            AlertSeverity::Ticket => 1,
        };
        let kind = match self.kind {
            AlertKind::Health => 0,
            AlertKind::BurnRate => 1,
            AlertKind::Breaching => 2,
            AlertKind::BudgetLow => 3,
            AlertKind::Incident => 4,
        };
        (severity, kind)
    }
}

struct Planner<'a> {
    world: &'a World<'a>,
    /// The active alerts after this evaluation, by index of their system (incident alerts
    /// and those of deleted systems stand nowhere: nothing is downstream of them).
    standing: Vec<Vec<Standing<'a>>>,
    /// The state and kind of the alerts standing nowhere, after this evaluation.
    elsewhere_after: Vec<(AlertState, AlertKind)>,
    steps: Vec<Step>,
}

/// The steps that take the stored alerts to what `world` says holds. Walks the systems
/// upstream first, matching each one's conditions with its own active alerts (a handful), so
/// a cycle that changes nothing hashes almost nothing.
pub fn plan<'a>(world: &'a World<'a>) -> Plan {
    let layers = world.layers;
    let mut planner = Planner {
        world,
        standing: vec![Vec::new(); layers.systems.len()],
        elsewhere_after: Vec::new(),
        steps: Vec::new(),
    };
    // Active alerts by the system they are about; the rest (incidents, deleted systems) apart.
    let mut by_system: Vec<Vec<&'a Alert>> = vec![Vec::new(); layers.systems.len()];
    let mut elsewhere: HashMap<Key<'a>, &'a Alert> = HashMap::new();
    for alert in world.active {
        let home = (alert.subject.subject_type != SubjectType::Incident)
            .then(|| alert.system_ids.first())
            .flatten()
            .and_then(|s| layers.index_of(s));
        match home {
            Some(i) => by_system[i].push(alert),
            None => {
                elsewhere.insert(key_of(alert), alert);
            }
        }
    }
    let mut held: Vec<Condition<'a>> = Vec::new();
    for &i in &layers.upstream_first {
        let system = &layers.systems[i];
        held.clear();
        for o in world.objectives[i].iter() {
            conditions::of_objective(o, &layers.graph, &mut held);
        }
        let health = world.health.get(system).copied().unwrap_or(Health::Unknown);
        held.extend(conditions::of_system(system, health, &layers.graph));
        let mut mine = std::mem::take(&mut by_system[i]);
        for condition in &held {
            let key = condition.key();
            let read = mine
                .iter()
                .position(|a| key_of(a) == key)
                .map(|at| mine.swap_remove(at));
            planner.holds(Some(i), condition, read);
        }
        for alert in mine {
            let gone = match alert.subject.subject_type {
                SubjectType::Objective => !world.objectives[i]
                    .iter()
                    .any(|o| o.objective.id == alert.subject.id),
                _ => false,
            };
            planner.lapses(Some(i), alert, gone);
        }
    }
    for incident in world.incidents {
        let condition = conditions::of_incident(incident);
        let read = elsewhere.remove(&condition.key());
        planner.holds(None, &condition, read);
    }
    // What is left: incident alerts whose incident closed, alerts of deleted systems.
    let mut rest: Vec<&Alert> = elsewhere.into_values().collect();
    rest.sort_by(|a, b| a.id.cmp(&b.id));
    for alert in rest {
        let gone = alert.subject.subject_type != SubjectType::Incident;
        planner.lapses(None, alert, gone);
    }
    Plan {
        steps: planner.steps,
        active_after: planner
            .standing
            .iter()
            .flatten()
            .map(|a| (a.state, a.kind))
            .chain(planner.elsewhere_after)
            .collect(),
    }
}

impl<'a> Planner<'a> {
    /// `condition` holds: fire it, or move its active alert (`read`) to the state it should
    /// have.
    fn holds(&mut self, system: Option<usize>, condition: &Condition<'a>, read: Option<&'a Alert>) {
        let (state, inhibited_by, silenced_by) = self.state_of(condition);
        let id = match read {
            None => {
                let id = crate::ids::new_uuid();
                self.steps.push(Step::Fire(Box::new(NewAlert {
                    id: id.clone(),
                    fingerprint: condition.fingerprint(),
                    subject: condition.subject(),
                    system_ids: condition.system_ids.to_vec(),
                    objective_id: condition.objective_id.map(str::to_owned),
                    kind: condition.kind,
                    severity: condition.severity,
                    state,
                    inhibited_by: inhibited_by.clone(),
                    silenced_by: silenced_by.clone(),
                    summary: condition.summary(),
                })));
                Cow::Owned(id)
            }
            Some(read) => {
                let unchanged = read.state == state
                    && read.inhibited_by == inhibited_by
                    && read.silenced_by == silenced_by
                    && read.condition_false_since.is_none();
                if !unchanged {
                    self.steps.push(Step::Move {
                        read: Box::new(read.clone()),
                        next: AlertMove {
                            state,
                            inhibited_by: inhibited_by.clone(),
                            silenced_by,
                            condition_false_since: None,
                        },
                    });
                }
                Cow::Borrowed(read.id.as_str())
            }
        };
        self.stand(
            system,
            Standing {
                id,
                kind: condition.kind,
                severity: condition.severity,
                state,
                inhibited_by,
            },
        );
    }

    fn stand(&mut self, system: Option<usize>, standing: Standing<'a>) {
        match system {
            Some(i) => self.standing[i].push(standing),
            None => self.elsewhere_after.push((standing.state, standing.kind)),
        }
    }

    /// `alert`'s condition does not hold: note since when, resolve once that is old enough,
    /// or at once if its subject is `gone`.
    fn lapses(&mut self, system: Option<usize>, alert: &'a Alert, gone: bool) {
        let world = self.world;
        let since = alert.condition_false_since.unwrap_or(world.now);
        let resolved = gone || world.now.duration_since(since) >= world.resolve_after;
        if !resolved {
            self.stand(
                system,
                Standing {
                    id: Cow::Borrowed(&alert.id),
                    kind: alert.kind,
                    severity: alert.severity,
                    state: alert.state,
                    inhibited_by: alert.inhibited_by.clone(),
                },
            );
            if alert.condition_false_since.is_some() {
                return;
            }
        }
        self.steps.push(Step::Move {
            read: Box::new(alert.clone()),
            next: AlertMove {
                state: if resolved {
                    AlertState::Resolved
                } else {
                    alert.state
                },
                inhibited_by: alert.inhibited_by.clone(),
                silenced_by: alert.silenced_by.clone(),
                condition_false_since: Some(since),
            },
        });
    }

    /// The state `condition` puts its alert in, with what inhibits or mutes it.
    fn state_of(
        &self,
        condition: &Condition<'_>,
    ) -> (AlertState, Option<InhibitedBy>, Option<SilencedBy>) {
        if let Some(muted) = self.muted(condition) {
            return (AlertState::Silenced, None, Some(muted));
        }
        if let Some(root) = self.root_cause(condition) {
            return (AlertState::Inhibited, Some(root), None);
        }
        (AlertState::Firing, None, None)
    }

    /// What mutes `condition`: a maintenance window over every system it is about, or a
    /// silence that matches it.
    fn muted(&self, condition: &Condition<'_>) -> Option<SilencedBy> {
        let world = self.world;
        if world.maintenance.is_empty() && world.silences.is_empty() {
            return None;
        }
        let windows: Option<Vec<&str>> = condition
            .system_ids
            .iter()
            .map(|s| world.maintenance.get(s.as_str()).copied())
            .collect();
        if let Some(window) = windows.and_then(|w| w.first().copied()) {
            return Some(SilencedBy {
                source: MuteSource::Maintenance,
                id: window.to_owned(),
            });
        }
        world
            .silences
            .iter()
            .find(|s| {
                s.is_active(world.now)
                    && s.matches(condition.system_ids, condition.objective_id, condition.kind)
            })
            .map(|s| SilencedBy {
                source: MuteSource::Silence,
                id: s.id.clone(),
            })
    }

    /// The upstream alert `condition` is inhibited by, if any.
    fn root_cause(&self, condition: &Condition<'_>) -> Option<InhibitedBy> {
        let (upstreams, health_only) = match &condition.blame {
            Blame::Own => return None,
            Blame::Upstreams(upstreams) => (upstreams, false),
            Blame::UpstreamHealth(upstreams) => (upstreams, true),
        };
        upstreams.iter().find_map(|system| {
            let alerts = self.standing.get(self.world.layers.index_of(system)?)?;
            let top = alerts
                .iter()
                .filter(|a| !health_only || a.kind == AlertKind::Health)
                .min_by_key(|a| (a.rank(), a.id.clone()))?;
            Some(match (&top.state, &top.inhibited_by) {
                (AlertState::Inhibited, Some(root)) => root.clone(),
                _ => InhibitedBy {
                    system_id: system.clone(),
                    alert_id: top.id.to_string(),
                    kind: top.kind,
                    severity: top.severity,
                },
            })
        })
    }
}
