//! Query parameters shared by several routes.

use serde::Deserialize;

use super::error::ApiResult;
use crate::paging::Paging;

/// `limit` (1..=1000, default 100) and `cursor` (from `nextCursor`).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Items per page, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// `nextCursor` of the previous page; empty or absent for the first page.
    #[param(pattern = "^([0-9a-f]{2})*$")]
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
    /// Items, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
}

impl LimitQuery {
    /// The number of items asked for.
    pub fn limit(&self) -> ApiResult<usize> {
        Ok(Paging::parse(self.limit, None)?.limit)
    }
}
