//! `examples/query_cache.rs`, driven in-process (no network) with tower's
//! `oneshot`, each test on its own temporary SQLite file.

#[path = "../examples/query_cache.rs"]
mod query_cache;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use larder::Clock;
use query_cache::{app, AppState, Product, Stats};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tower::ServiceExt;

/// A database file under the temp directory, deleted on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new(test: &str) -> TempDb {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "larder_query_cache_{test}_{}_{nanos}_{}.sqlite",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        TempDb(std::env::temp_dir().join(name))
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let mut journal = self.0.clone().into_os_string();
        journal.push("-journal");
        let _ = std::fs::remove_file(journal);
    }
}

/// A state over a fresh database, with a 30 s TTL and room for 1,000 rows.
fn state(db: &TempDb, clock: Clock) -> AppState {
    AppState::new(&db.0, Duration::from_secs(30), 1_000, clock).expect("open the test database")
}

fn queries(state: &AppState) -> u64 {
    state.queries.load(Ordering::Relaxed)
}

async fn send(router: &Router, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("read the body")
        .to_bytes();
    (status, body.to_vec())
}

async fn get(router: &Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    send(router, req).await
}

async fn get_product(router: &Router, id: i64) -> Product {
    let (status, body) = get(router, &format!("/products/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("a product")
}

async fn post_json(router: &Router, uri: &str, json: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(json.to_string()))
        .unwrap();
    send(router, req).await
}

async fn stats(router: &Router) -> Stats {
    let (status, body) = get(router, "/stats").await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice(&body).expect("stats")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_miss_then_hits() {
    let db = TempDb::new("hits");
    let state = state(&db, Clock::default());
    let router = app(state.clone());

    let first = get_product(&router, 42).await;
    assert_eq!(first.id, 42);
    assert_eq!(queries(&state), 1, "the miss runs one query");
    for _ in 0..5 {
        assert_eq!(get_product(&router, 42).await, first);
    }
    assert_eq!(queries(&state), 1, "hits run no query");

    let s = stats(&router).await;
    assert_eq!((s.hit_count, s.miss_count), (5, 1));
    assert!((s.hit_rate - 5.0 / 6.0).abs() < 1e-9, "{}", s.hit_rate);
    assert_eq!((s.load_success_count, s.load_failure_count), (1, 0));
    assert_eq!(s.entry_count, 1);
    assert_eq!(s.db_queries, 1);
    assert_eq!(s.max_capacity, Some(1_000));
    assert_eq!(s.time_to_live_secs, Some(30.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_concurrent_requests_for_a_cold_key_run_one_query() {
    let db = TempDb::new("coalesce");
    let mut state = state(&db, Clock::default());
    state.load_delay = Duration::from_millis(300);
    let router = app(state.clone());

    let start = Arc::new(tokio::sync::Barrier::new(50));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let router = router.clone();
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                get(&router, "/products/7").await
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let (status, body) = t.await.expect("request task");
        assert_eq!(status, StatusCode::OK);
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "one shared row");
    let p: Product = serde_json::from_slice(&bodies[0]).unwrap();
    assert_eq!(p.id, 7);
    assert_eq!(queries(&state), 1, "50 concurrent requests, one query");

    let s = stats(&router).await;
    assert_eq!(s.load_success_count, 1);
    assert_eq!(s.hit_count + s.miss_count, 50);
    assert!(
        s.miss_count > 1,
        "the requests overlapped the load ({} misses)",
        s.miss_count
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_post_updates_the_row_and_invalidates_it() {
    let db = TempDb::new("invalidate");
    let state = state(&db, Clock::default());
    let router = app(state.clone());

    let before = get_product(&router, 100).await;
    assert_eq!(queries(&state), 1);
    let new_price = before.price_cents + 1_234;

    let (status, body) = post_json(
        &router,
        "/products/100",
        &format!(r#"{{"price_cents": {new_price}}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let returned: Product = serde_json::from_slice(&body).unwrap();
    assert_eq!(returned.price_cents, new_price);
    assert_eq!(returned.name, before.name);
    assert_eq!(queries(&state), 1, "the update is not a read");

    let after = get_product(&router, 100).await;
    assert_eq!(after.price_cents, new_price);
    assert_eq!(after, returned);
    assert_eq!(queries(&state), 2, "the invalidated row is read again");
    assert_eq!(get_product(&router, 100).await, after);
    assert_eq!(queries(&state), 2, "and cached again");

    // Bad updates change nothing.
    let (status, _) = post_json(&router, "/products/100", "{}").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post_json(&router, "/products/100", r#"{"price_cents": -1}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(get_product(&router, 100).await, after);
    assert_eq!(stats(&router).await.db_updates, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rows_expire_after_the_ttl_on_the_mock_clock() {
    let db = TempDb::new("ttl");
    let (clock, mock) = Clock::mock();
    let state = state(&db, clock);
    let router = app(state.clone());

    let p = get_product(&router, 9).await;
    assert_eq!(queries(&state), 1);
    mock.advance(Duration::from_secs(29));
    assert_eq!(get_product(&router, 9).await, p);
    assert_eq!(queries(&state), 1, "still cached at 29 s");
    mock.advance(Duration::from_secs(1));
    assert_eq!(get_product(&router, 9).await, p);
    assert_eq!(queries(&state), 2, "expired at 30 s: read again");
    assert_eq!(get_product(&router, 9).await, p);
    assert_eq!(queries(&state), 2, "and cached again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missing_id_is_404_and_not_cached() {
    let db = TempDb::new("missing");
    let state = state(&db, Clock::default());
    let router = app(state.clone());

    for expected_queries in 1..=2 {
        let (status, body) = get(&router, "/products/999999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], "no such product");
        assert_eq!(queries(&state), expected_queries, "not-found is not cached");
    }
    let (status, _) = post_json(&router, "/products/999999", r#"{"price_cents": 5}"#).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&router, "/products/not-a-number").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let s = stats(&router).await;
    assert_eq!((s.load_success_count, s.load_failure_count), (0, 2));
    assert_eq!(s.entry_count, 0);
}

#[test]
fn options_parse() {
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let o = query_cache::parse_args(args("--port 8080 --db /tmp/x.sqlite --ttl-secs=5")).unwrap();
    assert_eq!(o.port, 8080);
    assert_eq!(o.db, PathBuf::from("/tmp/x.sqlite"));
    assert_eq!(o.ttl, Duration::from_secs(5));
    assert_eq!(o.capacity, query_cache::DEFAULT_CAPACITY);
    assert!(query_cache::parse_args(args("--port")).is_err());
    assert!(query_cache::parse_args(args("--port x")).is_err());
    assert!(query_cache::parse_args(args("--bogus 1")).is_err());
}
