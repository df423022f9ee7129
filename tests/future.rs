//! The async façade on real runtimes: coalescing across tasks (tokio
//! multi-thread and current-thread, futures' executor, smol), cancellation of
//! the loading task, panicking async loaders, and `Send` futures.

use larder::future::Cache;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Compile-time proof that the futures can be spawned on a multi-thread
/// runtime.
fn assert_send<F: Future + Send>(f: F) {
    drop(f);
}

#[allow(dead_code)]
fn every_future_is_send(cache: &Cache<String, Arc<Vec<u8>>>) {
    let k = || "k".to_string();
    let v = || Arc::new(vec![1u8]);
    assert_send(cache.get("k"));
    assert_send(cache.insert(k(), v()));
    assert_send(cache.remove("k"));
    assert_send(cache.invalidate("k"));
    assert_send(cache.get_with(k(), async { v() }));
    assert_send(cache.get_with_by_ref("k", async { v() }));
    assert_send(cache.try_get_with(k(), async { Ok::<_, std::io::Error>(v()) }));
    assert_send(cache.try_get_with_by_ref("k", async { Ok::<_, std::io::Error>(v()) }));
    assert_send(cache.optionally_get_with(k(), async { Some(v()) }));
    assert_send(cache.optionally_get_with_by_ref("k", async { Some(v()) }));
    assert_send(cache.run_pending_tasks());
    assert_send(cache.entry(k()).or_insert_with(async { v() }));
    assert_send(cache.entry_by_ref("k").or_insert(v()));
    assert_send(
        cache
            .entry(k())
            .and_compute_with(|_| async { larder::ops::compute::Op::Nop }),
    );
    assert_send(cache.entry(k()).and_upsert_with(|_| async { v() }));
}

/// Returns `Pending` once, waking itself first (so the executor polls again).
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

async fn coalesce(
    cache: Cache<u32, u32>,
    loads: Arc<AtomicUsize>,
    tasks: usize,
    sleep: impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync + 'static,
) -> Vec<u32> {
    let sleep = Arc::new(sleep);
    let futs = (0..tasks).map(|_| {
        let (cache, loads, sleep) = (cache.clone(), Arc::clone(&loads), Arc::clone(&sleep));
        async move {
            cache
                .get_with(1, async move {
                    loads.fetch_add(1, Ordering::SeqCst);
                    sleep().await;
                    7
                })
                .await
        }
    });
    futures::future::join_all(futs).await
}

#[test]
fn sixty_four_tasks_one_load_on_tokio_multi_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let cache: Cache<u32, u32> = Cache::new(100);
        let loads = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let (cache, loads) = (cache.clone(), Arc::clone(&loads));
                tokio::spawn(async move {
                    cache
                        .get_with(1, async move {
                            loads.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            7
                        })
                        .await
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.await.unwrap(), 7);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(cache.loads_in_flight(), 0);
    });
}

#[test]
fn coalesces_on_tokio_current_thread() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let loads = Arc::new(AtomicUsize::new(0));
    let out = rt.block_on(coalesce(Cache::new(10), Arc::clone(&loads), 64, || {
        Box::pin(tokio::time::sleep(Duration::from_millis(50)))
    }));
    assert!(out.iter().all(|&v| v == 7));
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}

#[test]
fn coalesces_on_futures_executor_with_join_all() {
    let loads = Arc::new(AtomicUsize::new(0));
    let out = futures::executor::block_on(coalesce(Cache::new(10), Arc::clone(&loads), 64, || {
        Box::pin(async {
            // Yield a few times so the other futures run while the load is in flight.
            for _ in 0..10 {
                YieldNow(false).await;
            }
        })
    }));
    assert!(out.iter().all(|&v| v == 7));
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}

#[test]
fn coalesces_on_smol() {
    let loads = Arc::new(AtomicUsize::new(0));
    let out = smol::block_on(coalesce(Cache::new(10), Arc::clone(&loads), 64, || {
        Box::pin(async {
            smol::Timer::after(Duration::from_millis(50)).await;
        })
    }));
    assert!(out.iter().all(|&v| v == 7));
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}

#[test]
fn aborting_the_loading_task_hands_the_load_to_a_waiter() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let cache: Cache<u32, u32> = Cache::new(100);
        let started = Arc::new(tokio::sync::Notify::new());
        let loads = Arc::new(AtomicUsize::new(0));
        let leader = {
            let (cache, started, loads) = (cache.clone(), Arc::clone(&started), Arc::clone(&loads));
            tokio::spawn(async move {
                cache
                    .get_with(1, async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        started.notify_one();
                        tokio::time::sleep(Duration::from_secs(3600)).await; // never finishes
                        0
                    })
                    .await
            })
        };
        started.notified().await;
        let waiters: Vec<_> = (0..16)
            .map(|_| {
                let (cache, loads) = (cache.clone(), Arc::clone(&loads));
                tokio::spawn(async move {
                    cache
                        .get_with(1, async move {
                            loads.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            42
                        })
                        .await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        leader.abort();
        let all = tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(waiters))
            .await
            .expect("no waiter hangs");
        for r in all {
            assert_eq!(r.unwrap(), 42);
        }
        assert_eq!(
            loads.load(Ordering::SeqCst),
            2,
            "the aborted load, then exactly one more"
        );
        assert_eq!(cache.loads_in_flight(), 0);
    });
}

#[test]
fn a_dropped_loading_future_before_and_during_the_load_leaks_nothing() {
    let cache: Cache<u32, u32> = Cache::new(100);
    // Created but never polled: registers nothing.
    drop(cache.get_with(1, async { 1 }));
    assert_eq!(cache.loads_in_flight(), 0);
    // Polled once (registers as leader), then dropped mid-load.
    let mut fut = Box::pin(cache.get_with(1, async {
        futures::pending!();
        1
    }));
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(cache.loads_in_flight(), 1);
    drop(fut);
    assert_eq!(cache.loads_in_flight(), 0);
    assert_eq!(
        futures::executor::block_on(cache.get_with(1, async { 2 })),
        2
    );
}

#[test]
fn a_panicking_async_loader_lets_a_waiter_load() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let cache: Cache<u32, u32> = Cache::new(100);
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..9)
            .map(|_| {
                let (cache, runs) = (cache.clone(), Arc::clone(&runs));
                tokio::spawn(async move {
                    cache
                        .get_with(3, async move {
                            let n = runs.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(30)).await;
                            if n == 0 {
                                panic!("first async loader fails");
                            }
                            33
                        })
                        .await
                })
            })
            .collect();
        let results = futures::future::join_all(tasks).await;
        assert_eq!(
            results.iter().filter(|r| r.is_err()).count(),
            1,
            "one panic, in its own task"
        );
        assert!(results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .all(|&v| v == 33));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(cache.loads_in_flight(), 0);
    });
}

#[test]
fn entry_api_and_compute_are_async() {
    futures::executor::block_on(async {
        let cache: Cache<u32, u64> = Cache::new(100);
        let e = cache.entry(1).or_insert_with(async { 5 }).await;
        assert!(e.is_fresh());
        let futs = (0..4).map(|_| async {
            for _ in 0..100 {
                cache
                    .entry(2)
                    .and_compute_with(|e| async move {
                        larder::ops::compute::Op::Put(e.map_or(0, |e| e.into_value()) + 1)
                    })
                    .await;
            }
        });
        futures::future::join_all(futs).await;
        assert_eq!(cache.get(&2).await, Some(400));
        let r = cache
            .entry(3)
            .or_try_insert_with(async { Err::<u64, _>("x") })
            .await;
        assert!(r.is_err());
        assert_eq!(cache.try_get_with(3, async { Ok::<_, ()>(9) }).await, Ok(9));
        assert_eq!(cache.optionally_get_with(4, async { None }).await, None);
    });
}

#[test]
fn try_compute_if_nobody_else_skips_while_another_load_runs() {
    use larder::ops::compute::{CompResult, Op};
    let cache: Cache<u32, u32> = Cache::new(10);
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    // A load of key 1 that stays in flight.
    let mut busy = Box::pin(cache.get_with(1, async {
        futures::pending!();
        1
    }));
    assert!(busy.as_mut().poll(&mut cx).is_pending());
    let r = futures::executor::block_on(
        cache
            .entry(1)
            .and_try_compute_if_nobody_else(|_| async { Ok::<_, ()>(Op::Put(9)) }),
    );
    assert!(
        matches!(r, Ok(CompResult::StillNone(_))),
        "skipped while busy"
    );
    drop(busy);
    let r = futures::executor::block_on(
        cache
            .entry(1)
            .and_try_compute_if_nobody_else(|_| async { Ok::<_, ()>(Op::Put(9)) }),
    );
    assert!(
        matches!(r, Ok(CompResult::Inserted(_))),
        "runs when nobody else is busy"
    );
}
