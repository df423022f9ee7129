//! A read-through cache in front of SQLite, served over HTTP (axum on tokio).
//!
//! `cargo run --example query_cache` creates and seeds
//! `target/query_cache_demo.sqlite` (if missing) and serves on
//! `127.0.0.1:3000` (loopback only):
//!
//! * `GET /products/{id}`: the row as JSON, read through
//!   [`larder::future::Cache::try_get_with`]: concurrent requests for one cold
//!   id run one query and share its result.
//! * `POST /products/{id}` with `{"price_cents": 123}` (and/or `"name"`):
//!   updates the row in SQLite, then invalidates the id in the cache.
//! * `GET /stats`: the cache's statistics, its entry count and the number of
//!   queries the database layer ran.
//!
//! Options: `--port N` (0 picks a free port), `--db PATH`, `--ttl-secs N`,
//! `--capacity N`.
//!
//! Design choices:
//!
//! * **"Not found" is not cached.** A missing row is a load *error*
//!   ([`LoadError::NotFound`], answered with 404), and `try_get_with` caches
//!   no errors. A row that another writer creates later is therefore seen at
//!   once; the price is that every request for a missing id runs a query
//!   (concurrent ones for the same id are still coalesced into one). To cache
//!   misses as well, make the value an `Option<Product>` and map `None` to 404
//!   in the handler.
//! * **One connection behind a `Mutex`.** rusqlite is blocking, so every
//!   query runs on `tokio::task::spawn_blocking`, and the queries of distinct
//!   ids take turns on the one connection. That is plenty here: the cache
//!   absorbs repeated reads, and SQLite allows a single writer anyway. A busy
//!   service would keep a small pool of read connections instead.
//! * **Invalidation is atomic with loads of the same id.** The update runs
//!   inside `cache.entry(id).and_try_compute_with(..)`, which returns
//!   `Op::Remove`: it waits for a load of that id already in flight, and
//!   loads that start meanwhile wait for it. A plain "update, then
//!   `invalidate`" leaves a window in which a load that read the old row just
//!   before the update caches it just after the invalidation, serving a stale
//!   price until the TTL. The update also runs in its own task, so a client
//!   that disconnects mid-request cannot leave the row updated but the stale
//!   entry cached.

#![allow(dead_code)] // the test includes this file and uses only part of it

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use larder::future::Cache;
use larder::ops::compute::Op;
use larder::Clock;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Rows created when the table is empty.
pub const SEED_ROWS: i64 = 5_000;
/// Default time to live of a cached row.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
/// Default number of rows the cache holds.
pub const DEFAULT_CAPACITY: u64 = 1_000;

/// One row of `products`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub price_cents: i64,
    pub updated_at: String,
}

/// The body of `POST /products/{id}`: the fields to change.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductUpdate {
    pub price_cents: Option<i64>,
    pub name: Option<String>,
}

// ---------------------------------------------------------------------------
// The database layer (blocking; call it from `spawn_blocking`).
// ---------------------------------------------------------------------------

/// The SQLite database: one connection, and counters of what it ran.
pub struct Db {
    conn: Mutex<Connection>,
    /// Row reads (`SELECT`s) run so far; shared with [`AppState::queries`].
    queries: Arc<AtomicU64>,
    /// Updates run so far.
    updates: AtomicU64,
}

impl Db {
    /// Opens (creating if needed) the database at `path`, creates the table
    /// if missing and seeds it with `rows` products if it is empty. Returns
    /// the database and whether it was seeded now.
    pub fn open(path: &FsPath, rows: i64) -> rusqlite::Result<(Db, bool)> {
        let mut conn = Connection::open(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS products (
                 id          INTEGER PRIMARY KEY,
                 name        TEXT    NOT NULL,
                 price_cents INTEGER NOT NULL,
                 updated_at  TEXT    NOT NULL
             );",
        )?;
        let existing: i64 = conn.query_row("SELECT COUNT(*) FROM products", [], |r| r.get(0))?;
        let seeded = existing == 0;
        if seeded {
            seed(&mut conn, rows)?;
        }
        let db = Db {
            conn: Mutex::new(conn),
            queries: Arc::new(AtomicU64::new(0)),
            updates: AtomicU64::new(0),
        };
        Ok((db, seeded))
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held leaves the connection usable:
        // every statement is its own transaction.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads one product (one query).
    pub fn product(&self, id: i64) -> rusqlite::Result<Option<Product>> {
        let conn = self.conn();
        self.queries.fetch_add(1, Ordering::Relaxed);
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, price_cents, updated_at FROM products WHERE id = ?1",
        )?;
        stmt.query_row(params![id], product_from_row).optional()
    }

    /// Applies `update` to product `id`; the row as it is now, or `None` if
    /// there is no such product.
    pub fn update(&self, id: i64, update: &ProductUpdate) -> rusqlite::Result<Option<Product>> {
        let conn = self.conn();
        self.updates.fetch_add(1, Ordering::Relaxed);
        let mut stmt = conn.prepare_cached(
            "UPDATE products
                SET price_cents = COALESCE(?2, price_cents),
                    name        = COALESCE(?3, name),
                    updated_at  = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
              WHERE id = ?1
          RETURNING id, name, price_cents, updated_at",
        )?;
        stmt.query_row(
            params![id, update.price_cents, update.name],
            product_from_row,
        )
        .optional()
    }

    /// Row reads run so far.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Updates run so far.
    pub fn updates(&self) -> u64 {
        self.updates.load(Ordering::Relaxed)
    }
}

fn product_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Product> {
    Ok(Product {
        id: row.get(0)?,
        name: row.get(1)?,
        price_cents: row.get(2)?,
        updated_at: row.get(3)?,
    })
}

/// Inserts products `1..=rows` with made-up names and prices, in one
/// transaction.
fn seed(conn: &mut Connection, rows: i64) -> rusqlite::Result<()> {
    const ADJECTIVES: [&str; 8] = [
        "Sturdy", "Compact", "Deluxe", "Rustic", "Quiet", "Bright", "Vintage", "Smart",
    ];
    const NOUNS: [&str; 10] = [
        "Kettle", "Lamp", "Chair", "Backpack", "Notebook", "Blender", "Jacket", "Mug", "Desk",
        "Speaker",
    ];
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO products (id, name, price_cents, updated_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        )?;
        for id in 1..=rows {
            let i = id as usize;
            let name = format!(
                "{} {} {}",
                ADJECTIVES[i % ADJECTIVES.len()],
                NOUNS[(i / ADJECTIVES.len()) % NOUNS.len()],
                id
            );
            let price_cents = 99 + (id * 7_919) % 49_900;
            insert.execute(params![id, name, price_cents])?;
        }
    }
    tx.commit()
}

// ---------------------------------------------------------------------------
// The service.
// ---------------------------------------------------------------------------

/// Why a product could not be loaded. Errors are shared with every request
/// that waited for the same load, and are not cached.
#[derive(Debug)]
pub enum LoadError {
    /// No such row (404; not cached, see the module docs).
    NotFound,
    /// The query failed (500).
    Db(rusqlite::Error),
    /// The blocking task panicked (500).
    Task(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound => f.write_str("no such product"),
            LoadError::Db(e) => write!(f, "database error: {e}"),
            LoadError::Task(e) => write!(f, "database task failed: {e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// What the handlers share. Cloning is cheap (handles only).
#[derive(Clone)]
pub struct AppState {
    /// Products by id.
    pub cache: Cache<i64, Product>,
    pub db: Arc<Db>,
    /// Row reads the database layer ran (the same counter as `db.queries()`).
    pub queries: Arc<AtomicU64>,
    /// Test knob: a pause in the loader before its query, so that concurrent
    /// requests for a cold id overlap. Zero in the service.
    pub load_delay: Duration,
}

impl AppState {
    /// Opens (and seeds if empty) the database at `db_path`, and builds a
    /// cache of up to `max_capacity` rows, each kept for `ttl`, timed by
    /// `clock` (`Clock::default()` in the service; a mock clock in tests).
    pub fn new(
        db_path: &FsPath,
        ttl: Duration,
        max_capacity: u64,
        clock: Clock,
    ) -> rusqlite::Result<AppState> {
        let (db, _seeded) = Db::open(db_path, SEED_ROWS)?;
        Ok(AppState::with_db(db, ttl, max_capacity, clock))
    }

    /// Like [`new`](Self::new), over an opened database.
    pub fn with_db(db: Db, ttl: Duration, max_capacity: u64, clock: Clock) -> AppState {
        let cache = Cache::builder()
            .name("products")
            .max_capacity(max_capacity)
            .time_to_live(ttl)
            .clock(clock)
            .record_stats()
            .build();
        let queries = Arc::clone(&db.queries);
        AppState {
            cache,
            db: Arc::new(db),
            queries,
            load_delay: Duration::ZERO,
        }
    }

    /// Product `id`, from the cache or, on a miss, from the database (one
    /// query per id however many requests are waiting for it).
    pub async fn product(&self, id: i64) -> Result<Product, Arc<LoadError>> {
        self.cache
            .try_get_with(id, async {
                if !self.load_delay.is_zero() {
                    tokio::time::sleep(self.load_delay).await;
                }
                let db = Arc::clone(&self.db);
                match tokio::task::spawn_blocking(move || db.product(id)).await {
                    Ok(Ok(Some(p))) => Ok(p),
                    Ok(Ok(None)) => Err(LoadError::NotFound),
                    Ok(Err(e)) => Err(LoadError::Db(e)),
                    Err(e) => Err(LoadError::Task(e.to_string())),
                }
            })
            .await
    }

    /// Updates product `id` in the database and then removes it from the
    /// cache, atomically with respect to loads of `id` (see the module docs).
    /// The row as updated.
    pub async fn update(&self, id: i64, update: ProductUpdate) -> Result<Product, LoadError> {
        let mut updated = None;
        let slot = &mut updated;
        let db = Arc::clone(&self.db);
        self.cache
            .entry(id)
            .and_try_compute_with(move |_cached| async move {
                let row = tokio::task::spawn_blocking(move || db.update(id, &update))
                    .await
                    .map_err(|e| LoadError::Task(e.to_string()))?
                    .map_err(LoadError::Db)?;
                *slot = Some(row.ok_or(LoadError::NotFound)?);
                Ok::<_, LoadError>(Op::Remove)
            })
            .await?;
        Ok(updated.expect("set when the compute succeeded"))
    }
}

/// The routes, over `state`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/products/{id}", get(get_product).post(post_product))
        .route("/stats", get(stats))
        .with_state(state)
}

/// An error answer: a status and `{"error": message}`.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl From<&LoadError> for ApiError {
    fn from(e: &LoadError) -> Self {
        match e {
            LoadError::NotFound => ApiError(StatusCode::NOT_FOUND, e.to_string()),
            LoadError::Db(_) | LoadError::Task(_) => {
                // The details go to the log, not to the client.
                eprintln!("query_cache: {e}");
                ApiError(StatusCode::INTERNAL_SERVER_ERROR, "database error".into())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Product>, ApiError> {
    state
        .product(id)
        .await
        .map(Json)
        .map_err(|e| ApiError::from(&*e))
}

async fn post_product(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(update): Json<ProductUpdate>,
) -> Result<Json<Product>, ApiError> {
    if update.price_cents.is_none() && update.name.is_none() {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "nothing to update: give price_cents and/or name".into(),
        ));
    }
    if update.price_cents.is_some_and(|p| p < 0) {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "price_cents must not be negative".into(),
        ));
    }
    // In its own task: dropping this handler (client gone) must not stop
    // between the update and the invalidation.
    let task = tokio::spawn(async move { state.update(id, update).await });
    match task.await {
        Ok(Ok(p)) => Ok(Json(p)),
        Ok(Err(e)) => Err(ApiError::from(&e)),
        Err(e) => Err(ApiError::from(&LoadError::Task(e.to_string()))),
    }
}

/// The body of `GET /stats`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Lookups that found the row cached. Hits and misses count every GET,
    /// and also the lookup that a POST's `and_try_compute_with` makes.
    pub hit_count: u64,
    pub miss_count: u64,
    pub hit_rate: f64,
    /// Loads that produced a row.
    pub load_success_count: u64,
    /// Loads that failed, including "not found".
    pub load_failure_count: u64,
    pub total_load_time_ms: f64,
    pub eviction_count: u64,
    pub entry_count: u64,
    pub max_capacity: Option<u64>,
    pub time_to_live_secs: Option<f64>,
    /// Row reads the database ran.
    pub db_queries: u64,
    /// Updates the database ran.
    pub db_updates: u64,
}

async fn stats(State(state): State<AppState>) -> Json<Stats> {
    // Makes `entry_count` exact (it is otherwise as of the last maintenance).
    state.cache.run_pending_tasks().await;
    let s = state.cache.stats();
    let policy = state.cache.policy();
    Json(Stats {
        hit_count: s.hit_count,
        miss_count: s.miss_count,
        hit_rate: s.hit_rate(),
        load_success_count: s.load_success_count,
        load_failure_count: s.load_failure_count,
        total_load_time_ms: s.total_load_time.as_secs_f64() * 1e3,
        eviction_count: s.eviction_count,
        entry_count: state.cache.entry_count(),
        max_capacity: policy.max_capacity(),
        time_to_live_secs: policy.time_to_live().map(|d| d.as_secs_f64()),
        db_queries: state.queries.load(Ordering::Relaxed),
        db_updates: state.db.updates(),
    })
}

// ---------------------------------------------------------------------------
// The binary.
// ---------------------------------------------------------------------------

/// Command-line options.
#[derive(Clone, Debug)]
pub struct Options {
    pub port: u16,
    pub db: PathBuf,
    pub ttl: Duration,
    pub capacity: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 3000,
            db: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/query_cache_demo.sqlite"
            )),
            ttl: DEFAULT_TTL,
            capacity: DEFAULT_CAPACITY,
        }
    }
}

const USAGE: &str = "usage: query_cache [--port N] [--db PATH] [--ttl-secs N] [--capacity N]";

/// Parses `--port N`, `--db PATH`, `--ttl-secs N`, `--capacity N` (also
/// written `--flag=value`).
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut opts = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => return Err(format!("{flag} needs a value\n{USAGE}")),
        };
        let bad = |e: &dyn fmt::Display| format!("{flag} {value}: {e}\n{USAGE}");
        match flag.as_str() {
            "--port" => opts.port = value.parse().map_err(|e| bad(&e))?,
            "--db" => opts.db = PathBuf::from(&value),
            "--ttl-secs" => {
                opts.ttl = Duration::from_secs(value.parse().map_err(|e| bad(&e))?);
            }
            "--capacity" => opts.capacity = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(opts)
}

#[tokio::main]
async fn main() {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    if let Some(dir) = opts.db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).expect("create the database's directory");
    }
    let (db, seeded) = Db::open(&opts.db, SEED_ROWS).expect("open the database");
    let rows: i64 = db
        .conn()
        .query_row("SELECT COUNT(*) FROM products", [], |r| r.get(0))
        .expect("count the rows");
    let state = AppState::with_db(db, opts.ttl, opts.capacity, Clock::default());

    // Loopback only: this demo has no authentication.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
        .await
        .expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    println!(
        "query_cache: {rows} products in {} ({})",
        opts.db.display(),
        if seeded {
            "seeded now"
        } else {
            "already there"
        }
    );
    println!(
        "cache: max_capacity {}, time_to_live {:?}",
        opts.capacity, opts.ttl
    );
    println!("listening on http://127.0.0.1:{port}");
    println!("try:");
    println!("  curl -s localhost:{port}/products/42");
    println!(
        "  curl -s -X POST -H 'content-type: application/json' -d '{{\"price_cents\": 123}}' localhost:{port}/products/42"
    );
    println!("  curl -s localhost:{port}/stats");
    axum::serve(listener, app(state)).await.expect("serve");
}
