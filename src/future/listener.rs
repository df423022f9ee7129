//! The asynchronous eviction listener (`async_eviction_listener`).
//!
//! The core reports removals through a plain closure. For an async listener
//! that closure calls the user's function (which returns a
//! [`ListenerFuture`]) and queues the future here. The async methods of
//! [`future::Cache`](crate::future::Cache) then run the queued futures before
//! they return, one at a time and in the order the removals were reported.
//! Only one task runs them at a time; another task that finds them being run
//! waits (through its waker) until the queue is empty, so when an async
//! method returns, every listener future queued before it started has
//! completed.
//!
//! A task dropped while it runs a listener future (cancellation) puts the
//! future back at the front of the queue, where the next task resumes it. A
//! listener future that panics is dropped; the panic goes to the task that
//! polled it.

use crate::notification::ListenerFuture;
use crate::shim::Mutex;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Listener futures waiting to run.
pub(crate) struct ListenerQueue {
    state: Mutex<State>,
}

struct State {
    queue: VecDeque<ListenerFuture>,
    /// A task is running the queue.
    running: bool,
    /// Tasks waiting for it to finish.
    waiters: Vec<Waker>,
}

impl ListenerQueue {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                running: false,
                waiters: Vec::new(),
            }),
        }
    }

    /// Queues a listener future (called from the core's listener closure).
    pub(crate) fn push(&self, future: ListenerFuture) {
        self.state.lock().queue.push_back(future);
    }

    /// Runs the queued futures (see the module documentation).
    pub(crate) fn run(&self) -> RunListeners<'_> {
        RunListeners {
            queue: self,
            current: None,
            leader: false,
            polling: false,
        }
    }
}

/// The future returned by [`ListenerQueue::run`].
pub(crate) struct RunListeners<'a> {
    queue: &'a ListenerQueue,
    /// The listener future this task is running.
    current: Option<ListenerFuture>,
    /// This task holds the `running` flag.
    leader: bool,
    /// `current` is being polled (still true in `drop` if that poll panicked).
    polling: bool,
}

impl Future for RunListeners<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if let Some(current) = this.current.as_mut() {
                this.polling = true;
                let done = current.as_mut().poll(cx).is_ready();
                this.polling = false;
                if !done {
                    return Poll::Pending;
                }
                this.current = None;
            }
            let mut state = this.queue.state.lock();
            if !this.leader {
                if state.running {
                    if !state.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        state.waiters.push(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
                state.running = true;
                this.leader = true;
            }
            match state.queue.pop_front() {
                Some(next) => this.current = Some(next),
                None => {
                    state.running = false;
                    this.leader = false;
                    let waiters = std::mem::take(&mut state.waiters);
                    drop(state);
                    waiters.into_iter().for_each(Waker::wake);
                    return Poll::Ready(());
                }
            }
        }
    }
}

impl Drop for RunListeners<'_> {
    fn drop(&mut self) {
        if !self.leader {
            return;
        }
        let mut state = self.queue.state.lock();
        if let Some(current) = self.current.take() {
            if !self.polling {
                // Cancelled between polls: the next task resumes it.
                state.queue.push_front(current);
            }
            // Else its poll panicked: it is dropped (never polled again).
        }
        state.running = false;
        let waiters = std::mem::take(&mut state.waiters);
        drop(state);
        waiters.into_iter().for_each(Waker::wake);
    }
}
