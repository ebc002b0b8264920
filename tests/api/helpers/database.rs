//! Reading a test database directly, beside the server that uses it.

/// The `n` column of a one-row query, read straight from the database.
pub async fn count(database_url: &str, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let url = if database_url.starts_with("sqlite") {
        format!("{database_url}?mode=rw")
    } else {
        database_url.to_string()
    };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let n: i64 = sqlx::query(sql)
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    pool.close().await;
    n
}
