//! moka 0.12 compatibility of the async API (`larder::future`): paths, names,
//! signatures and behaviours that code ported from moka by renaming the crate
//! relies on, including `async_eviction_listener`.

use larder::future::{
    BoxFuture, Cache, CacheBuilder, FutureExt, Iter, OwnedKeyEntrySelector, PredicateId,
    RefKeyEntrySelector,
};
use larder::notification::{ListenerFuture, RemovalCause};
use larder::ops::compute::{CompResult, Op};
use larder::policy::EvictionPolicy;
use larder::{Entry, PredicateError};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn assert_send<T: Send>(t: T) -> T {
    t
}

type Log = Arc<Mutex<Vec<(u32, String, RemovalCause)>>>;

/// An async listener that records each removal when its future runs.
fn recording_listener(
    log: &Log,
) -> impl Fn(Arc<u32>, String, RemovalCause) -> ListenerFuture + Send + Sync + 'static {
    let log = Arc::clone(log);
    move |k, v, cause| {
        let log = Arc::clone(&log);
        async move {
            tokio::task::yield_now().await;
            log.lock().unwrap().push((*k, v, cause));
        }
        .boxed()
    }
}

#[tokio::test]
async fn module_paths_and_types_match_moka() {
    // `future::CacheBuilder::new` knows it builds a `future::Cache`.
    let cache = CacheBuilder::new(100).build();
    cache.insert(1u32, "one").await;
    let _: &Cache<u32, &str> = &cache;
    let _: CacheBuilder<u32, u32, Cache<u32, u32>> = Cache::builder();
    let _: OwnedKeyEntrySelector<'_, u32, &str, ahash::RandomState> = cache.entry(2);
    let _: RefKeyEntrySelector<'_, u32, u32, &str, ahash::RandomState> = cache.entry_by_ref(&2);
    let it: Iter<'_, u32, &str> = cache.iter();
    assert_eq!(it.count(), 1);
    let id: Result<PredicateId, PredicateError> = cache.invalidate_entries_if(|_, _| true);
    assert!(id.is_ok());
    let boxed: BoxFuture<'static, u32> = async { 5 }.boxed();
    assert_eq!(boxed.await, 5);
}

#[tokio::test]
async fn every_future_is_send() {
    let cache: Cache<String, u32> = Cache::builder()
        .max_capacity(10)
        .async_eviction_listener(|_, _, _| async {}.boxed())
        .build();
    let k = || "k".to_string();
    assert_send(cache.get("k")).await;
    assert_send(cache.insert(k(), 1)).await;
    assert_send(cache.remove("k")).await;
    assert_send(cache.invalidate("k")).await;
    assert_send(cache.get_with(k(), async { 1 })).await;
    assert_send(cache.get_with_if(k(), async { 1 }, |_| false)).await;
    assert_send(cache.entry(k()).or_default()).await;
    assert_send(cache.entry(k()).or_insert_with_if(async { 2 }, |_| true)).await;
    assert_send(
        cache
            .entry_by_ref("k")
            .and_try_compute_if_nobody_else(|_| async { Ok::<_, ()>(Op::Nop) }),
    )
    .await
    .unwrap();
    assert_send(cache.run_pending_tasks()).await;
}

#[tokio::test]
async fn basic_operations_and_loading() {
    let cache: Cache<String, u32> = Cache::builder()
        .name("async")
        .max_capacity(100)
        .initial_capacity(8)
        .eviction_policy(EvictionPolicy::lru())
        .support_invalidation_closures()
        .build();
    assert_eq!(cache.name(), Some("async"));
    cache.insert("a".into(), 1).await;
    assert_eq!(cache.get("a").await, Some(1));
    assert!(cache.contains_key("a"));
    assert_eq!(cache.remove("a").await, Some(1));
    cache.insert("b".into(), 2).await;
    cache.invalidate("b").await;
    assert_eq!(cache.get("b").await, None);

    assert_eq!(cache.get_with("c".into(), async { 3 }).await, 3);
    assert_eq!(cache.get_with_by_ref("d", async { 4 }).await, 4);
    let e = cache
        .try_get_with("e".into(), async { Err::<u32, _>("boom") })
        .await
        .unwrap_err();
    assert_eq!(*e, "boom");
    assert_eq!(
        cache
            .try_get_with_by_ref::<_, (), _>("e", async { Ok(5) })
            .await,
        Ok(5)
    );
    assert_eq!(
        cache.optionally_get_with("f".into(), async { None }).await,
        None
    );
    assert_eq!(
        cache
            .optionally_get_with_by_ref("f", async { Some(6) })
            .await,
        Some(6)
    );
    assert_eq!(
        cache
            .get_with_if("c".into(), async { 30 }, |v| *v == 3)
            .await,
        30
    );
    assert_eq!(
        cache
            .get_with_if("c".into(), async { 300 }, |_| false)
            .await,
        30
    );

    cache.run_pending_tasks().await;
    assert_eq!(cache.entry_count(), 4);
    cache.invalidate_entries_if(|_, v| *v > 5).unwrap();
    cache.invalidate_all();
    cache.run_pending_tasks().await;
    assert_eq!(cache.entry_count(), 0);
    assert_eq!((&cache).into_iter().count(), 0);
}

#[tokio::test]
async fn entry_api() {
    let cache: Cache<String, u64> = Cache::new(100);
    let e: Entry<String, u64> = cache.entry("a".into()).or_insert(1).await;
    assert!(e.is_fresh());
    let e = cache
        .entry_by_ref("a")
        .or_insert_with(async { unreachable!() })
        .await;
    assert!(!e.is_fresh());
    assert_eq!(cache.entry_by_ref("z").or_default().await.into_value(), 0);
    assert!(cache
        .entry_by_ref("n")
        .or_optionally_insert_with(async { None })
        .await
        .is_none());
    assert_eq!(
        *cache
            .entry_by_ref("t")
            .or_try_insert_with(async { Err::<u64, _>(7u8) })
            .await
            .unwrap_err(),
        7
    );
    let e = cache
        .entry_by_ref("a")
        .or_insert_with_if(async { 10 }, |v| *v == 1)
        .await;
    assert!(e.is_fresh());
    assert_eq!(e.into_value(), 10);

    // The bounded counter: every CompResult variant, with futures resolved
    // at once (`std::future::ready`) as in moka's example.
    async fn step(cache: &Cache<String, u64>, key: &str) -> CompResult<String, u64> {
        cache
            .entry_by_ref(key)
            .and_compute_with(|e| {
                std::future::ready(match e {
                    None => Op::Put(1),
                    Some(e) if *e.value() < 2 => Op::Put(e.into_value() + 1),
                    Some(_) => Op::Remove,
                })
            })
            .await
    }
    assert!(matches!(step(&cache, "b").await, CompResult::Inserted(e) if *e.value() == 1));
    assert!(matches!(step(&cache, "b").await, CompResult::ReplacedWith(e) if *e.value() == 2));
    assert!(matches!(step(&cache, "b").await, CompResult::Removed(e) if *e.value() == 2));
    assert!(!cache.contains_key("b"));

    // and_upsert_with and is_old_value_replaced.
    let e = cache
        .entry_by_ref("c")
        .and_upsert_with(|e| std::future::ready(e.map_or(1, |e| e.into_value() + 1)))
        .await;
    assert!(!e.is_old_value_replaced());
    let e = cache
        .entry("c".into())
        .and_upsert_with(|e| async move { e.unwrap().into_value() + 1 })
        .await;
    assert!(e.is_fresh() && e.is_old_value_replaced());
    assert_eq!(e.into_value(), 2);

    // and_try_compute_with: an error changes nothing.
    let r = cache
        .entry_by_ref("c")
        .and_try_compute_with(|_| async { Err::<Op<u64>, _>("nope") })
        .await;
    assert_eq!(r.unwrap_err(), "nope");
    assert_eq!(cache.get("c").await, Some(2));
    let r = cache
        .entry_by_ref("c")
        .and_try_compute_if_nobody_else(|e| async move {
            Ok::<_, ()>(Op::Put(e.unwrap().into_value() * 10))
        })
        .await
        .unwrap();
    assert_eq!(r.unwrap().into_value(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tasks_share_a_cache_by_clone() {
    let cache: Cache<usize, String> = Cache::new(10_000);
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let c = cache.clone();
            tokio::spawn(async move {
                for k in t * 64..(t + 1) * 64 {
                    c.insert(k, k.to_string()).await;
                    assert_eq!(c.get(&k).await, Some(k.to_string()));
                }
                for k in (t * 64..(t + 1) * 64).step_by(4) {
                    c.invalidate(&k).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for k in 0..1024 {
        assert_eq!(cache.get(&k).await.is_some(), k % 4 != 0, "key {k}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn coalesced_loading_across_tasks() {
    let cache: Cache<u32, u32> = Cache::new(10);
    let calls = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = cache.clone();
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                c.get_with(1, async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    9
                })
                .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 9);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn async_eviction_listener_runs_in_order() {
    let log: Log = Arc::default();
    let cache = Cache::builder()
        .max_capacity(100)
        .async_eviction_listener(recording_listener(&log))
        .build();
    cache.insert(1, "a".to_string()).await;
    cache.insert(1, "b".to_string()).await;
    assert_eq!(cache.remove(&1).await.as_deref(), Some("b"));
    // Each async method ran the futures its removals queued before returning.
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            (1, "a".to_string(), RemovalCause::Replaced),
            (1, "b".to_string(), RemovalCause::Explicit),
        ]
    );
    // Removals by the non-async methods run on the next async call.
    cache.insert(2, "c".to_string()).await;
    cache.invalidate_all();
    cache.run_pending_tasks().await;
    assert_eq!(
        log.lock().unwrap().last(),
        Some(&(2, "c".to_string(), RemovalCause::Explicit))
    );
}

#[tokio::test]
async fn sync_listener_replaces_async_one() {
    let log: Log = Arc::default();
    let sync_calls = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&sync_calls);
    let cache = Cache::builder()
        .async_eviction_listener(recording_listener(&log))
        .eviction_listener(move |_k: Arc<u32>, _v: String, _c| {
            calls.fetch_add(1, Ordering::SeqCst);
        })
        .build();
    cache.insert(1, "a".to_string()).await;
    cache.invalidate(&1).await;
    assert_eq!(sync_calls.load(Ordering::SeqCst), 1);
    assert!(log.lock().unwrap().is_empty());
}

/// A call cancelled while it runs a listener future hands that future to
/// the next call, which resumes it; nothing is lost or run twice.
#[tokio::test]
async fn cancelled_call_hands_listener_future_on() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    let (g, r) = (Arc::clone(&gate), Arc::clone(&runs));
    let cache: Cache<u32, u32> = Cache::builder()
        .async_eviction_listener(move |_, _, _| {
            let (g, r) = (Arc::clone(&g), Arc::clone(&r));
            async move {
                let _permit = g.acquire().await.unwrap();
                r.fetch_add(1, Ordering::SeqCst);
            }
            .boxed()
        })
        .build();
    cache.insert(1, 1).await;
    let timed_out = tokio::time::timeout(Duration::from_millis(20), cache.invalidate(&1)).await;
    assert!(timed_out.is_err(), "the listener future should be waiting");
    assert!(!cache.contains_key(&1));
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    gate.add_permits(1);
    cache.run_pending_tasks().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// While one task runs the listener futures, another task's call waits for
/// them instead of returning early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_wait_for_listener_futures() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let (g, d) = (Arc::clone(&gate), Arc::clone(&done));
    let cache: Cache<u32, u32> = Cache::builder()
        .async_eviction_listener(move |_, _, _| {
            let (g, d) = (Arc::clone(&g), Arc::clone(&d));
            async move {
                g.acquire().await.unwrap().forget();
                d.fetch_add(1, Ordering::SeqCst);
            }
            .boxed()
        })
        .build();
    cache.insert(1, 1).await;
    let c = cache.clone();
    let first = tokio::spawn(async move { c.invalidate(&1).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let c = cache.clone();
    let second = tokio::spawn(async move { c.run_pending_tasks().await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        !second.is_finished(),
        "must wait for the running listener future"
    );
    gate.add_permits(1);
    first.await.unwrap();
    second.await.unwrap();
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[test]
fn runtime_agnostic() {
    fn run<F: Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }
    let cache: Cache<u32, u32> = CacheBuilder::new(10).build();
    run(async {
        cache.insert(1, 1).await;
        assert_eq!(cache.entry(1).or_insert(2).await.into_value(), 1);
    });
    smol::block_on(async {
        assert_eq!(cache.get_with(2, async { 2 }).await, 2);
    });
}
