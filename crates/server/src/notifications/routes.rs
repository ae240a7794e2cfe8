//! `/api/v1/notification-channels...`, `/api/v1/notification-policies...`,
//! `/api/v1/notification-deliveries`: extract, one service call, respond.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use slod_store::{Channel, DeliveryFilter, DeliveryStatus, Policy};

use super::{
    ChannelInput, ChannelList, DeliveryList, Notifications, PolicyInput, PolicyList, TestResult,
};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, Id};
use crate::ids::{AlertId, ChannelId, PolicyId};
use crate::paging::Paging;

#[utoipa::path(get, path = "/api/v1/notification-channels", tag = "notifications", operation_id = "listChannels",
    responses((status = 200, body = ChannelList)))]
pub async fn list_channels(State(n): State<Notifications>) -> ApiResult<Json<ChannelList>> {
    Ok(Json(n.channels().await?))
}

#[utoipa::path(post, path = "/api/v1/notification-channels", tag = "notifications", operation_id = "createChannel", request_body = ChannelInput,
    responses((status = 201, body = Channel), (status = 400, body = ErrorBody)))]
pub async fn create_channel(
    State(n): State<Notifications>,
    ApiJson(input): ApiJson<ChannelInput>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    Ok((StatusCode::CREATED, Json(n.create_channel(input).await?)))
}

#[utoipa::path(get, path = "/api/v1/notification-channels/{id}", tag = "notifications", operation_id = "getChannel", params(("id" = ChannelId, Path)),
    responses((status = 200, body = Channel), (status = 404, body = ErrorBody)))]
pub async fn get_channel(
    State(n): State<Notifications>,
    Id(id): Id<ChannelId>,
) -> ApiResult<Json<Channel>> {
    Ok(Json(n.channel(&id).await?))
}

#[utoipa::path(put, path = "/api/v1/notification-channels/{id}", tag = "notifications", operation_id = "replaceChannel", params(("id" = ChannelId, Path)), request_body = ChannelInput,
    responses((status = 200, body = Channel), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replace_channel(
    State(n): State<Notifications>,
    Id(id): Id<ChannelId>,
    ApiJson(input): ApiJson<ChannelInput>,
) -> ApiResult<Json<Channel>> {
    Ok(Json(n.replace_channel(&id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/notification-channels/{id}", tag = "notifications", operation_id = "deleteChannel", params(("id" = ChannelId, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_channel(
    State(n): State<Notifications>,
    Id(id): Id<ChannelId>,
) -> ApiResult<StatusCode> {
    n.delete_channel(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/notification-channels/{id}/test", tag = "notifications", operation_id = "testChannel", params(("id" = ChannelId, Path)),
    responses((status = 200, body = TestResult), (status = 404, body = ErrorBody)))]
pub async fn test_channel(
    State(n): State<Notifications>,
    Id(id): Id<ChannelId>,
) -> ApiResult<Json<TestResult>> {
    Ok(Json(n.test_channel(&id).await?))
}

#[utoipa::path(get, path = "/api/v1/notification-policies", tag = "notifications", operation_id = "listPolicies",
    responses((status = 200, body = PolicyList)))]
pub async fn list_policies(State(n): State<Notifications>) -> ApiResult<Json<PolicyList>> {
    Ok(Json(n.policies().await?))
}

#[utoipa::path(post, path = "/api/v1/notification-policies", tag = "notifications", operation_id = "createPolicy", request_body = PolicyInput,
    responses((status = 201, body = Policy), (status = 400, body = ErrorBody)))]
pub async fn create_policy(
    State(n): State<Notifications>,
    ApiJson(input): ApiJson<PolicyInput>,
) -> ApiResult<(StatusCode, Json<Policy>)> {
    Ok((StatusCode::CREATED, Json(n.create_policy(input).await?)))
}

#[utoipa::path(get, path = "/api/v1/notification-policies/{id}", tag = "notifications", operation_id = "getPolicy", params(("id" = PolicyId, Path)),
    responses((status = 200, body = Policy), (status = 404, body = ErrorBody)))]
pub async fn get_policy(
    State(n): State<Notifications>,
    Id(id): Id<PolicyId>,
) -> ApiResult<Json<Policy>> {
    Ok(Json(n.policy(&id).await?))
}

#[utoipa::path(put, path = "/api/v1/notification-policies/{id}", tag = "notifications", operation_id = "replacePolicy", params(("id" = PolicyId, Path)), request_body = PolicyInput,
    responses((status = 200, body = Policy), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replace_policy(
    State(n): State<Notifications>,
    Id(id): Id<PolicyId>,
    ApiJson(input): ApiJson<PolicyInput>,
) -> ApiResult<Json<Policy>> {
    Ok(Json(n.replace_policy(&id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/notification-policies/{id}", tag = "notifications", operation_id = "deletePolicy", params(("id" = PolicyId, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_policy(
    State(n): State<Notifications>,
    Id(id): Id<PolicyId>,
) -> ApiResult<StatusCode> {
    n.delete_policy(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `alertId`, `channelId`, `status`, `limit`, `cursor`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryQuery {
    /// Only the deliveries of this alert.
    alert_id: Option<AlertId>,
    /// Only the deliveries to this channel.
    channel_id: Option<ChannelId>,
    status: Option<DeliveryStatus>,
    /// Items per page, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// `nextCursor` of the previous page; empty or absent for the first page.
    #[param(pattern = "^([0-9a-f]{2})*$")]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/notification-deliveries", tag = "notifications", operation_id = "listDeliveries", params(DeliveryQuery),
    responses((status = 200, body = DeliveryList), (status = 400, body = ErrorBody)))]
pub async fn list_deliveries(
    State(n): State<Notifications>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let paging = Paging::parse(query.limit, query.cursor.as_deref())?;
    let filter = DeliveryFilter {
        alert_id: query.alert_id.map(String::from),
        channel_id: query.channel_id.map(String::from),
        status: query.status,
    };
    Ok(Json(n.deliveries(filter, paging).await?))
}
