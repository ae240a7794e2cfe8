//! The OpenAPI 3.1 document, generated from the handlers and their types, then completed with
//! what holds for every operation alike:
//!
//! - security as it is: operational routes need no token; reads accept one and need it only
//!   when `SLOD_PUBLIC_READ=false` (`[{}, {bearer: []}]`); writes need one;
//! - every error an operation can answer (401/403 on the API, 400/413/415 with a body, 400
//!   with query parameters, 404 with a path parameter, 503 when the database is unreachable),
//!   each with the one error body;
//! - response objects list every property as required (a field without a value is `null`,
//!   never absent);
//! - the text rules (names and titles need a visible character; no control characters);
//! - links from each create to the operations that use the id it returns.

use serde_json::{json, Map, Value};
use utoipa::OpenApi;

use crate::signals::Signal;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "slod",
        description = "An SLO service for health-checked systems."
    ),
    paths(
        crate::systems::routes::create,
        crate::systems::routes::list,
        crate::systems::routes::get,
        crate::systems::routes::update,
        crate::systems::routes::delete,
        crate::systems::routes::health,
        crate::checks::routes::create,
        crate::checks::routes::list,
        crate::checks::routes::update,
        crate::checks::routes::delete,
        crate::checks::routes::post_results,
        crate::checks::routes::list_results,
        crate::objectives::routes::create,
        crate::objectives::routes::list,
        crate::objectives::routes::get,
        crate::objectives::routes::update,
        crate::objectives::routes::delete,
        crate::objectives::routes::for_system,
        crate::objectives::routes::bulk_status,
        crate::objectives::routes::downtime,
        crate::objectives::routes::budget_history,
        crate::objectives::routes::gate,
        crate::objectives::routes::system_gate,
        crate::objectives::routes::slo_metrics,
        crate::maintenance::routes::create,
        crate::maintenance::routes::cancel,
        crate::maintenance::routes::get,
        crate::maintenance::routes::list,
        crate::maintenance::routes::for_system,
        crate::incidents::routes::create,
        crate::incidents::routes::resolve,
        crate::incidents::routes::get,
        crate::incidents::routes::list,
        crate::incidents::routes::for_system,
        crate::alerts::routes::list,
        crate::alerts::routes::get,
        crate::alerts::routes::create_silence,
        crate::alerts::routes::list_silences,
        crate::alerts::routes::get_silence,
        crate::alerts::routes::end_silence,
        crate::notifications::routes::list_channels,
        crate::notifications::routes::create_channel,
        crate::notifications::routes::get_channel,
        crate::notifications::routes::replace_channel,
        crate::notifications::routes::delete_channel,
        crate::notifications::routes::test_channel,
        crate::notifications::routes::list_policies,
        crate::notifications::routes::create_policy,
        crate::notifications::routes::get_policy,
        crate::notifications::routes::replace_policy,
        crate::notifications::routes::delete_policy,
        crate::notifications::routes::list_deliveries,
        crate::bookkeeping::routes::snapshots,
        crate::bookkeeping::routes::streaks,
        crate::bookkeeping::routes::achievements,
        crate::bookkeeping::routes::milestones,
        crate::http::sse::stream,
        crate::http::dashboard::page,
        crate::http::dashboard::assets,
        crate::http::ops::healthz,
        crate::http::ops::readyz,
        crate::http::ops::metrics,
        serve,
    ),
    components(schemas(
        crate::checks::ResultInput,
        crate::ids::SystemId,
        crate::ids::CheckId,
        crate::ids::ObjectiveId,
        crate::ids::IncidentId,
        crate::ids::MaintenanceId,
        crate::ids::AlertId,
        crate::ids::SilenceId,
        crate::ids::ChannelId,
        crate::ids::PolicyId,
        crate::notifications::Notice,
    ))
)]
struct ApiDoc;

/// A name or title: at least one character that is not whitespace (as Rust's
/// `char::is_whitespace` counts it), and no C0 control character or DEL.
pub const NAME_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f]*[^\\u0000-\\u0020\\u007f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000-\\u001f\\u007f]*$";
/// Free text: no C0 control character but tab, line feed and carriage return, and no DEL.
pub const FREE_TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$";

#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document of this API")))]
pub async fn serve() -> axum::Json<Value> {
    axum::Json(document())
}

/// The scope an operation needs (api.md, "Conventions"); `None` for operational routes.
pub fn scope(path: &str, method: &str, operation_id: &str) -> Option<slod_store::Scope> {
    use slod_store::Scope;
    if path == "/metrics/slo" {
        // It names systems and objectives: a read like any other.
        return Some(Scope::Read);
    }
    if !path.starts_with("/api/") {
        return None;
    }
    Some(match (method, operation_id) {
        // A channel's URL may itself be a credential (a Slack webhook's is).
        (_, "listChannels" | "getChannel") => Scope::Manage,
        ("get", _) | (_, "getBulkObjectivesForSystems") => Scope::Read,
        (_, "postResults") => Scope::Ingest,
        _ => Scope::Manage,
    })
}

/// The document served at `/openapi.json`.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document encodes");
    doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    doc["info"]["description"] = json!(
        "An SLO service for health-checked systems. Errors have one shape, `{\"error\": {\"code\", \"message\", \"details\"}}`. \
         An empty `cursor` (`?cursor=`) is the first page, as no cursor is. Integer fields accept integral numbers (`30.0`)."
    );
    doc["components"]["securitySchemes"] = json!({
        "bearer": {"type": "http", "scheme": "bearer", "description": "A token minted with `slod token create`, or SLOD_ADMIN_TOKEN"}
    });
    doc["components"]["schemas"]["ErrorBody"]["example"] = json!({
        "error": {"code": "invalid_input", "message": "invalid fields: name", "details": [{"field": "name", "message": "must not be empty or blank"}]}
    });
    let paths = doc["paths"].as_object_mut().expect("paths");
    for (path, item) in paths.iter_mut() {
        for (method, op) in item.as_object_mut().expect("a path item").iter_mut() {
            complete_operation(path, method, op);
        }
    }
    if let Some(get) = doc.pointer_mut("/paths/~1api~1v1~1signals/get/responses/200") {
        get["description"] = json!(Signal::describe());
    }
    let (requests, responses) = reachable_components(&doc);
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas");
    for (name, schema) in schemas.iter_mut() {
        if requests.contains(name) {
            text_rules(schema);
        } else if responses.contains(name) {
            every_property_required(schema);
        }
    }
    add_links(&mut doc);
    doc
}

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
}

fn complete_operation(path: &str, method: &str, op: &mut Value) {
    let id = op["operationId"].as_str().unwrap_or_default().to_owned();
    let scope = scope(path, method, &id);
    let responses = op["responses"].as_object_mut().expect("responses");
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| error(description));
    };
    let Some(scope) = scope else {
        op["security"] = json!([]);
        return;
    };
    add("401", "No token, or an unknown or revoked one (reads need one only when SLOD_PUBLIC_READ is false)");
    add("403", "The token's scope does not allow this operation");
    add("503", "The database cannot be reached; try again");
    let has_body = op.get("requestBody").is_some();
    let params: Vec<String> = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p["in"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut add = |status: &str, description: &str| {
        op["responses"]
            .as_object_mut()
            .expect("responses")
            .entry(status.to_owned())
            .or_insert_with(|| error(description));
    };
    if has_body {
        add("400", "The body is malformed, is not a JSON object, or breaks a rule (the details name each field)");
        add("413", "The body is larger than 2 MiB");
        add(
            "415",
            "The body is not sent as Content-Type: application/json",
        );
    }
    if params.iter().any(|p| p == "query") {
        add(
            "400",
            "A query parameter breaks its rule (the details name it)",
        );
    }
    if params.iter().any(|p| p == "path") {
        add(
            "404",
            "No such record (an id that breaks its rule names none)",
        );
    }
    let (security, needs) = match scope {
        slod_store::Scope::Read => (
            json!([{}, {"bearer": []}]),
            "read (no token needed while SLOD_PUBLIC_READ is true)",
        ),
        slod_store::Scope::Ingest => (json!([{"bearer": []}]), "ingest"),
        slod_store::Scope::Manage => (json!([{"bearer": []}]), "manage"),
    };
    op["security"] = security;
    let note = format!("Scope: {needs}.");
    op["description"] = json!(match op["description"].as_str() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
        _ => note,
    });
}

/// The components reachable from request bodies and from responses.
fn reachable_components(doc: &Value) -> (Vec<String>, Vec<String>) {
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|i| i.values()) {
            collect_refs(doc, &op["requestBody"], &mut requests);
            collect_refs(doc, &op["parameters"], &mut requests);
            collect_refs(doc, &op["responses"], &mut responses);
        }
    }
    (requests, responses)
}

fn collect_refs(doc: &Value, v: &Value, into: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                if !into.iter().any(|n| n == name) {
                    into.push(name.to_owned());
                    collect_refs(doc, &doc["components"]["schemas"][name], into);
                }
            }
            map.values().for_each(|v| collect_refs(doc, v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(doc, v, into)),
        _ => {}
    }
}

/// Names and titles need a visible character; free text holds no control characters; a time
/// zone is one of the IANA zones slod knows.
fn text_rules(schema: &mut Value) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        if name == "timeZone" {
            let mut zones: Vec<Value> = jiff::tz::db()
                .available()
                .map(|z| json!(z.as_str()))
                .collect();
            zones.push(Value::Null);
            property["enum"] = Value::Array(zones);
            continue;
        }
        let pattern = match name.as_str() {
            "name" | "title" | "reason" => NAME_PATTERN,
            "description" | "message" => FREE_TEXT_PATTERN,
            _ => continue,
        };
        property["pattern"] = json!(pattern);
    }
}

/// Every property of a response object is present (`null` when it has no value).
fn every_property_required(schema: &mut Value) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let names: Vec<Value> = properties.keys().map(|k| json!(k)).collect();
    schema["required"] = Value::Array(names);
}

/// Links from each create to the operations that use the id it returns, so a client (and a
/// stateful tester) can follow them.
fn add_links(doc: &mut Value) {
    /// (path and method of a create, the field holding the new id, the operations taking that
    /// id and the name of their parameter)
    type Link<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)]);
    let links: [Link; 8] = [
        (
            "/api/v1/systems",
            "post",
            "id",
            &[
                ("getSystem", "id"),
                ("updateSystem", "id"),
                ("deleteSystem", "id"),
                ("getSystemHealth", "id"),
                ("createCheck", "id"),
                ("listChecks", "id"),
                ("getObjectivesForSystem", "id"),
                ("getIncidentsForSystem", "id"),
                ("getMaintenancesForSystem", "id"),
                ("getSystemAchievements", "id"),
            ],
        ),
        (
            "/api/v1/systems/{id}/checks",
            "post",
            "id",
            &[
                ("updateCheck", "checkId"),
                ("deleteCheck", "checkId"),
                ("postResults", "checkId"),
                ("listResults", "checkId"),
            ],
        ),
        (
            "/api/v1/objectives",
            "post",
            "id",
            &[
                ("getObjective", "id"),
                ("updateObjective", "id"),
                ("deleteObjective", "id"),
                ("getObjectiveDowntime", "id"),
                ("getObjectiveBudgetHistory", "id"),
                ("getObjectiveSnapshots", "id"),
            ],
        ),
        (
            "/api/v1/incidents",
            "post",
            "id",
            &[("getIncident", "id"), ("resolveIncident", "id")],
        ),
        (
            "/api/v1/maintenances",
            "post",
            "id",
            &[("getMaintenance", "id"), ("cancelMaintenance", "id")],
        ),
        (
            "/api/v1/silences",
            "post",
            "id",
            &[("getSilence", "id"), ("endSilence", "id")],
        ),
        (
            "/api/v1/notification-channels",
            "post",
            "id",
            &[
                ("getChannel", "id"),
                ("replaceChannel", "id"),
                ("deleteChannel", "id"),
                ("testChannel", "id"),
            ],
        ),
        (
            "/api/v1/notification-policies",
            "post",
            "id",
            &[
                ("getPolicy", "id"),
                ("replacePolicy", "id"),
                ("deletePolicy", "id"),
            ],
        ),
    ];
    for (path, method, field, targets) in links {
        let Some(responses) = doc["paths"][path][method]["responses"].as_object_mut() else {
            continue;
        };
        let Some(created) = responses.get_mut("201") else {
            continue;
        };
        let mut map = Map::new();
        for (operation, parameter) in targets {
            map.insert(
                format!("{operation}ById"),
                json!({"operationId": operation, "parameters": {*parameter: format!("$response.body#/{field}")}}),
            );
        }
        created["links"] = Value::Object(map);
    }
}
