//! Query parameters shared by several routes.

use serde::Deserialize;

use super::error::ApiResult;
use crate::paging::Paging;

/// `limit` (1..=1000, default 100) and `cursor` (from `nextCursor`).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    limit: Option<u64>,
    cursor: Option<String>,
}

impl ListQuery {
    /// The page asked for.
    pub fn paging(&self) -> ApiResult<Paging> {
        Ok(Paging::parse(self.limit, self.cursor.as_deref())?)
    }
}

/// `limit` (1..=1000, default 100).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    limit: Option<u64>,
}

impl LimitQuery {
    /// The number of items asked for.
    pub fn limit(&self) -> ApiResult<usize> {
        Ok(Paging::parse(self.limit, None)?.limit)
    }
}
