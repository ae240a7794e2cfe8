//! The SQLite and PostgreSQL migrations are written by hand, side by side. This test migrates a
//! fresh database of each kind and compares what they built: tables, columns (type after
//! normalising names, nullability, primary key), indexes (uniqueness, columns, predicate) and
//! foreign keys (columns, target, on delete). Any drift fails with the difference.

use std::collections::BTreeSet;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

/// One fact about a schema, comparable across dialects.
type Fact = String;

/// `integer`, `text` or `float`, whatever the dialect calls it.
fn normal_type(raw: &str) -> String {
    let t = raw.to_ascii_lowercase();
    if t.contains("int") || t == "bigserial" || t == "serial" {
        "integer".into()
    } else if t.contains("char") || t == "text" {
        "text".into()
    } else if t.contains("real") || t.contains("double") || t.contains("float") || t == "numeric" {
        "float".into()
    } else {
        t
    }
}

/// A predicate as both dialects print it: no parentheses, lowercase, single spaces.
fn normal_predicate(raw: &str) -> String {
    raw.replace(['(', ')'], " ")
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn sqlite_facts(pool: &AnyPool) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    let tables: Vec<(String, String)> = sqlx::query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'slod_migrations'")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("name"), r.get("sql")))
        .collect();
    for (table, _) in &tables {
        facts.insert(format!("table {table}"));
        let columns = sqlx::query(&format!(
            "SELECT name, type, \"notnull\" AS nn, pk FROM pragma_table_info('{table}')"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        let pk: Vec<String> = columns
            .iter()
            .filter(|c| c.get::<i64, _>("pk") > 0)
            .map(|c| c.get::<String, _>("name"))
            .collect();
        for c in &columns {
            let name: String = c.get("name");
            // A primary key column is never null (SQLite's flag does not say so for TEXT keys).
            let not_null = c.get::<i64, _>("nn") != 0 || pk.contains(&name);
            facts.insert(format!(
                "column {table}.{name} {} {}",
                normal_type(&c.get::<String, _>("type")),
                if not_null { "not null" } else { "null" }
            ));
        }
        facts.insert(format!("primary key {table}({})", pk.join(", ")));
        for index in sqlx::query(&format!(
            "SELECT name, \"unique\" AS u, origin FROM pragma_index_list('{table}')"
        ))
        .fetch_all(pool)
        .await
        .unwrap()
        {
            let name: String = index.get("name");
            if index.get::<String, _>("origin") == "pk" {
                continue;
            }
            let cols: Vec<String> = sqlx::query(&format!(
                "SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"
            ))
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("name"))
            .collect();
            let sql: Option<String> =
                sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1")
                    .bind(&name)
                    .fetch_optional(pool)
                    .await
                    .unwrap()
                    .and_then(|r| r.get("sql"));
            let predicate = sql
                .as_deref()
                .and_then(|s| s.split_once(" WHERE ").map(|(_, p)| normal_predicate(p)))
                .unwrap_or_default();
            facts.insert(format!(
                "{}index {table}({}){}",
                if index.get::<i64, _>("u") != 0 {
                    "unique "
                } else {
                    ""
                },
                cols.join(", "),
                if predicate.is_empty() {
                    String::new()
                } else {
                    format!(" where {predicate}")
                }
            ));
        }
        for fk in sqlx::query(&format!("SELECT \"table\" AS target, \"from\" AS col, \"to\" AS tcol, on_delete FROM pragma_foreign_key_list('{table}')"))
            .fetch_all(pool)
            .await
            .unwrap()
        {
            facts.insert(format!(
                "foreign key {table}.{} -> {}.{} on delete {}",
                fk.get::<String, _>("col"),
                fk.get::<String, _>("target"),
                fk.get::<String, _>("tcol"),
                fk.get::<String, _>("on_delete").to_ascii_lowercase()
            ));
        }
    }
    facts
}

async fn postgres_facts(pool: &AnyPool, schema: &str) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    for t in sqlx::query("SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'slod_migrations'")
        .bind(schema)
        .fetch_all(pool)
        .await
        .unwrap()
    {
        facts.insert(format!("table {}", t.get::<String, _>("name")));
    }
    for c in sqlx::query("SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, is_nullable::text AS n FROM information_schema.columns WHERE table_schema = $1 AND table_name <> 'slod_migrations'")
        .bind(schema)
        .fetch_all(pool)
        .await
        .unwrap()
    {
        facts.insert(format!(
            "column {}.{} {} {}",
            c.get::<String, _>("t"),
            c.get::<String, _>("c"),
            normal_type(&c.get::<String, _>("ty")),
            if c.get::<String, _>("n") == "NO" { "not null" } else { "null" }
        ));
    }
    // Primary keys, unique constraints and indexes, from the catalog (columns in key order).
    for i in sqlx::query(
        "SELECT t.relname::text AS t, ix.indisprimary AS pk, ix.indisunique AS u, \
                COALESCE(pg_get_expr(ix.indpred, ix.indrelid), '') AS pred, \
                (SELECT string_agg(a.attname::text, ', ' ORDER BY k.n) FROM unnest(ix.indkey) WITH ORDINALITY AS k(att, n) \
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.att) AS cols \
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace \
         WHERE s.nspname = $1 AND t.relname <> 'slod_migrations'",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .unwrap()
    {
        let (table, cols): (String, String) = (i.get("t"), i.get("cols"));
        if i.get::<bool, _>("pk") {
            facts.insert(format!("primary key {table}({cols})"));
            continue;
        }
        let predicate = normal_predicate(&i.get::<String, _>("pred"));
        facts.insert(format!(
            "{}index {table}({cols}){}",
            if i.get::<bool, _>("u") { "unique " } else { "" },
            if predicate.is_empty() { String::new() } else { format!(" where {predicate}") }
        ));
    }
    for fk in sqlx::query(
        "SELECT cl.relname::text AS t, a.attname::text AS col, rc.relname::text AS target, ra.attname::text AS tcol, c.confdeltype::text AS del \
         FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace s ON s.oid = cl.relnamespace \
         JOIN pg_class rc ON rc.oid = c.confrelid \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1] \
         WHERE c.contype = 'f' AND s.nspname = $1",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .unwrap()
    {
        let on_delete = match fk.get::<String, _>("del").as_str() {
            "c" => "cascade",
            "n" => "set null",
            "r" => "restrict",
            "d" => "set default",
            _ => "no action",
        };
        facts.insert(format!(
            "foreign key {}.{} -> {}.{} on delete {on_delete}",
            fk.get::<String, _>("t"),
            fk.get::<String, _>("col"),
            fk.get::<String, _>("target"),
            fk.get::<String, _>("tcol"),
        ));
    }
    facts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let Some(pg_store) = crate::support::postgres().await else {
        return;
    };
    let schema = pg_store
        .pg_schema()
        .expect("the test store has its own schema")
        .to_owned();
    let path = std::env::temp_dir().join(format!("slod-schema-{}.db", uuid::Uuid::new_v4()));
    let sqlite_url = format!("sqlite://{}", path.display());
    let store = slod_store::Store::open(&sqlite_url).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    pg_store.close().await;

    sqlx::any::install_default_drivers();
    let sqlite = AnyPoolOptions::new().connect(&sqlite_url).await.unwrap();
    let postgres = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&std::env::var("DATABASE_URL").unwrap())
        .await
        .unwrap();
    let lite = sqlite_facts(&sqlite).await;
    let pg = postgres_facts(&postgres, &schema).await;
    let only_sqlite: Vec<&Fact> = lite.difference(&pg).collect();
    let only_postgres: Vec<&Fact> = pg.difference(&lite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migrations drifted apart:\n  only on SQLite: {only_sqlite:#?}\n  only on PostgreSQL: {only_postgres:#?}"
    );
    assert!(lite.len() > 50, "the comparison saw the schema: {lite:#?}");
}

#[test]
fn type_names_and_predicates_normalise() {
    assert_eq!(normal_type("BIGINT"), normal_type("INTEGER"));
    assert_eq!(normal_type("double precision"), normal_type("REAL"));
    assert_eq!(normal_type("character varying"), normal_type("TEXT"));
    assert_eq!(
        normal_predicate("((end_at IS NULL) AND (check_id IS NULL))"),
        normal_predicate("end_at IS NULL AND check_id IS NULL")
    );
}

/// Replicas starting at once on a schema nobody created yet all start: they take turns
/// creating it (PostgreSQL's CREATE SCHEMA IF NOT EXISTS is not safe against itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_create_their_schema_once() {
    let Some(probe) = crate::support::postgres().await else {
        return;
    };
    probe.close().await;
    let url = std::env::var("DATABASE_URL").unwrap();
    // A race: several rounds, so that one without the turns fails almost surely.
    for _ in 0..5 {
        race_to_create_a_schema(&url).await;
    }
}

async fn race_to_create_a_schema(url: &str) {
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let start = || {
        let (url, schema) = (url.to_owned(), schema.clone());
        async move {
            let options = slod_store::StoreOptions {
                pg_schema: Some(schema),
                max_connections: Some(1),
            };
            let store = slod_store::Store::open_with(&url, options).await?;
            store.migrate().await?;
            store.close().await;
            Ok::<_, slod_store::StoreError>(())
        }
    };
    // Concurrent on the database's side: each start waits on its own connections.
    let (a, b, c, d) = tokio::join!(start(), start(), start(), start());
    for started in [a, b, c, d] {
        started.expect("every replica starts");
    }
}
