//! Records that name a set of systems (incidents, maintenance windows): their systems live in
//! a join table, are read in one batched query per page, and pages are keyset-paged by
//! `(time DESC, id DESC)` with the cursor `<epoch ms>:<id>`.

use std::collections::HashMap;

use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::objectives::{placeholders, IN_CHUNK};
use crate::systems::Page;
use crate::{ms, StoreError, Tx};

/// How one kind of record is read.
pub(crate) struct Membership<T> {
    /// The join table (`incident_systems`) and its column naming the record (`incident_id`).
    pub table: &'static str,
    pub column: &'static str,
    /// Builds a record from its row and its sorted system ids.
    pub from_row: fn(&AnyRow, Vec<String>) -> Result<T, sqlx::Error>,
    /// The record's id and the time its lists are ordered by.
    pub key: fn(&T) -> (Timestamp, &str),
}

impl<T> Membership<T> {
    /// The SQL condition "record `alias` names system `$1`", or one that is always true when no
    /// system is asked for (`$1` is then bound to ''). Driven from the join table's system index,
    /// not tested row by row.
    pub fn system_filter(&self, alias: &str, system: Option<&str>) -> String {
        match system {
            Some(_) => format!(
                "{alias}.id IN (SELECT {column} FROM {table} WHERE system_id = $1)",
                column = self.column,
                table = self.table
            ),
            None => "$1 = ''".to_owned(),
        }
    }
}

/// Parses a keyset cursor; a malformed one starts from the top.
pub(crate) fn parse_cursor(cursor: Option<&str>) -> (i64, String) {
    cursor
        .and_then(|c| c.split_once(':'))
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_owned())))
        .unwrap_or((i64::MAX, String::new()))
}

/// Fails with `invalid_input` on `systemIds` unless every id (sorted, deduplicated) names a
/// system; one query.
pub(crate) async fn require_systems(w: &mut Tx, ids: &[String]) -> Result<(), StoreError> {
    require_existing(w, "systems", "systemIds", "system", ids).await
}

/// Fails with `invalid_input` on `field` ("unknown <kind> ...") unless every one of `ids`
/// is the id of a row of `table`; one query.
pub(crate) async fn require_existing(
    w: &mut Tx,
    table: &'static str,
    field: &str,
    kind: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT id FROM {table} WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    let found: Vec<String> = query
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<Result<_, _>>()?;
    match ids.iter().find(|id| !found.contains(id)) {
        Some(missing) => Err(StoreError::Invalid {
            field: field.into(),
            message: format!("unknown {kind} {missing:?}"),
        }),
        None => Ok(()),
    }
}

/// Links record `id` to each of `systems`.
pub(crate) async fn link_systems(
    w: &mut Tx,
    kind: &Membership<impl Sized>,
    id: &str,
    systems: &[String],
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO {} ({}, system_id) VALUES ($1, $2)",
        kind.table, kind.column
    );
    for system in systems {
        sqlx::query(&sql)
            .bind(id)
            .bind(system)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

/// The record in `row` (if any) with its systems.
pub(crate) async fn one_with_systems<T>(
    conn: &mut AnyConnection,
    kind: &Membership<T>,
    row: Option<AnyRow>,
    id: &str,
) -> Result<Option<T>, StoreError> {
    let Some(row) = row else {
        return Ok(None);
    };
    let mut systems = members(conn, kind, &[id.to_owned()]).await?;
    Ok(Some((kind.from_row)(
        &row,
        systems.remove(id).unwrap_or_default(),
    )?))
}

/// A page of records from `rows` (fetched with `LIMIT limit + 1`), with their systems.
pub(crate) async fn page_with_systems<T>(
    conn: &mut AnyConnection,
    kind: &Membership<T>,
    rows: Vec<AnyRow>,
    limit: usize,
) -> Result<Page<T>, StoreError> {
    let more = rows.len() > limit;
    let rows = &rows[..rows.len().min(limit)];
    let ids = rows
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut members = members(conn, kind, &ids).await?;
    let items = rows
        .iter()
        .zip(&ids)
        .map(|(row, id)| (kind.from_row)(row, members.remove(id).unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = more
        .then(|| {
            items.last().map(|item| {
                let (at, id) = (kind.key)(item);
                format!("{}:{id}", ms(at))
            })
        })
        .flatten();
    Ok(Page { items, next_cursor })
}

/// The sorted member systems of each listed record.
async fn members<T>(
    conn: &mut AnyConnection,
    kind: &Membership<T>,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT {column}, system_id FROM {table} WHERE {column} IN ({}) ORDER BY system_id",
            placeholders(1, chunk.len()),
            column = kind.column,
            table = kind.table,
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            out.entry(row.try_get(kind.column)?)
                .or_default()
                .push(row.try_get("system_id")?);
        }
    }
    Ok(out)
}
