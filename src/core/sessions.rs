//! Live sessions: vendor processes the core keeps between turns (issue 16).
//!
//! A session is `starting` while its runtime opens it, `busy` while a turn runs in it and `idle`
//! in between. Exactly one party owns the [`LiveSession`] at a time: the registry while idle, the
//! running turn while busy. Whoever takes it out of the registry for good (the turn's end, the
//! idle watcher, `session/close`, shutdown) closes it and sends the one `session/closed`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{lock, Refusal, STOP_DEADLINE};
use crate::protocol::methods::{SessionClosed, SessionClosedReason, SessionInfo, SessionState};
use crate::protocol::task::{AgentTask, SessionRef};
use crate::runtime::{LiveSession, SessionGrants, Stop, StopReason};

/// Where `session/closed` notifications go (the server's writer); the core knows no wire.
#[async_trait]
pub trait SessionNotifier: Send + Sync {
    async fn closed(&self, closed: SessionClosed);
}

/// The live sessions of this sidecar, by session id.
#[derive(Default)]
pub(crate) struct Sessions {
    live: Mutex<HashMap<String, Arc<Entry>>>,
    /// Sessions whose runtime is still opening them (their id is not known yet).
    opening: Mutex<HashMap<u64, Opening>>,
    next_opening: AtomicU64,
    notifier: Mutex<Option<Arc<dyn SessionNotifier>>>,
}

struct Opening {
    runtime: String,
    /// The id being resumed, if any: what `session/list` shows while starting.
    resume: Option<String>,
    stop: Stop,
}

/// One live session.
pub(crate) struct Entry {
    pub id: String,
    pub runtime: String,
    /// The task that opened it: the fields a turn cannot change come from here.
    pub opening: AgentTask,
    pub working_directory: PathBuf,
    /// `allowForSession` answers, shared by every turn.
    pub grants: SessionGrants,
    inner: Mutex<Inner>,
    /// Wakes the idle watcher when the state changes.
    changed: Notify,
    /// The runtime's "the vendor is gone".
    ended: CancellationToken,
    /// Fires once the session is closed and its process reaped.
    gone: CancellationToken,
}

struct Inner {
    /// `None` while a turn runs (the turn holds it) or once removed.
    live: Option<Box<dyn LiveSession>>,
    /// The running turn's stop, while busy.
    turn: Option<Stop>,
    turns: u32,
    last_use: Instant,
    idle_timeout: Duration,
    /// Asked to close while busy: the turn's end closes it with this reason.
    close_requested: Option<SessionClosedReason>,
    removed: bool,
}

/// Removes the `starting` row when the opening ends, however it ends.
pub(crate) struct OpeningGuard<'a> {
    sessions: &'a Sessions,
    key: u64,
}

impl Drop for OpeningGuard<'_> {
    fn drop(&mut self) {
        lock(&self.sessions.opening).remove(&self.key);
    }
}

fn idle_timeout(task: &AgentTask) -> Duration {
    Duration::from_millis(
        task.session
            .as_ref()
            .and_then(|s| s.idle_timeout_ms)
            .unwrap_or(SessionRef::DEFAULT_IDLE_TIMEOUT_MS),
    )
}

impl Sessions {
    pub fn set_notifier(&self, notifier: Option<Arc<dyn SessionNotifier>>) {
        *lock(&self.notifier) = notifier;
    }

    pub fn get(&self, id: &str) -> Option<Arc<Entry>> {
        lock(&self.live).get(id).cloned()
    }

    /// A `starting` row for `session/list`, and a stop that shutdown fires.
    pub fn opening(&self, runtime: &str, resume: Option<&str>, stop: &Stop) -> OpeningGuard<'_> {
        let key = self.next_opening.fetch_add(1, Ordering::Relaxed);
        lock(&self.opening).insert(
            key,
            Opening {
                runtime: runtime.to_string(),
                resume: resume.map(str::to_string),
                stop: stop.clone(),
            },
        );
        OpeningGuard {
            sessions: self,
            key,
        }
    }

    /// Registers a session its runtime just opened: busy with `turn` (a first turn follows) or
    /// idle (`session/open`). Starts its watcher (idle timeout, vendor exit).
    pub fn insert(
        self: &Arc<Self>,
        live: Box<dyn LiveSession>,
        runtime: &str,
        opening: AgentTask,
        working_directory: PathBuf,
        grants: SessionGrants,
        turn: Option<Stop>,
    ) -> (Arc<Entry>, Option<Box<dyn LiveSession>>) {
        let id = live.session_id();
        let busy = turn.is_some();
        let entry = Arc::new(Entry {
            id: id.clone(),
            runtime: runtime.to_string(),
            working_directory,
            grants,
            ended: live.ended(),
            gone: CancellationToken::new(),
            changed: Notify::new(),
            inner: Mutex::new(Inner {
                live: None,
                turn,
                turns: 0,
                last_use: Instant::now(),
                idle_timeout: idle_timeout(&opening),
                close_requested: None,
                removed: false,
            }),
            opening,
        });
        let handed_back = if busy {
            Some(live)
        } else {
            lock(&entry.inner).live = Some(live);
            None
        };
        if let Some(old) = lock(&self.live).insert(id, entry.clone()) {
            // The vendor reused an id that is live here (a fork reporting its parent): the older
            // process can no longer be reached by id, so it goes.
            let sessions = self.clone();
            tokio::spawn(
                async move { sessions.close_entry(old, SessionClosedReason::Closed).await },
            );
        }
        tokio::spawn(watch(self.clone(), entry.clone()));
        (entry, handed_back)
    }

    /// Takes an idle session for a turn (it becomes busy), after `check` accepts the turn.
    pub fn begin_turn(
        &self,
        entry: &Arc<Entry>,
        stop: &Stop,
        task: &AgentTask,
        check: impl FnOnce(&dyn LiveSession) -> Result<(), Refusal>,
    ) -> Result<Box<dyn LiveSession>, Refusal> {
        let mut inner = lock(&entry.inner);
        let Some(live) = inner.live.as_deref() else {
            return Err(if inner.removed {
                Refusal::SessionNotFound {
                    session_id: entry.id.clone(),
                }
            } else {
                Refusal::SessionBusy {
                    session_id: entry.id.clone(),
                }
            });
        };
        check(live)?;
        let live = inner.live.take().expect("checked above");
        inner.turn = Some(stop.clone());
        if task
            .session
            .as_ref()
            .and_then(|s| s.idle_timeout_ms)
            .is_some()
        {
            inner.idle_timeout = idle_timeout(task);
        }
        drop(inner);
        entry.changed.notify_one();
        Ok(live)
    }

    /// Gives back a session taken by [`begin_turn`](Self::begin_turn) whose turn never ran.
    pub fn put_back(&self, entry: &Entry, live: Box<dyn LiveSession>) {
        let mut inner = lock(&entry.inner);
        inner.live = Some(live);
        inner.turn = None;
        drop(inner);
        entry.changed.notify_one();
    }

    /// A turn ended: the session goes back to idle, or, if its vendor is gone, it was asked to
    /// close, or the sidecar is stopping, it is closed. Returns whether it is still live.
    pub async fn end_turn(
        &self,
        entry: &Arc<Entry>,
        live: Option<Box<dyn LiveSession>>,
        shutting_down: bool,
    ) -> bool {
        let reason = {
            let mut inner = lock(&entry.inner);
            inner.turn = None;
            inner.turns += 1;
            inner.last_use = Instant::now();
            let reason = match (&live, inner.close_requested) {
                (_, Some(requested)) => Some(requested),
                (None, _) => Some(SessionClosedReason::Exited),
                (Some(l), _) if l.ended().is_cancelled() => Some(SessionClosedReason::Exited),
                _ if shutting_down => Some(SessionClosedReason::Shutdown),
                _ => None,
            };
            if reason.is_none() {
                inner.live = live;
                drop(inner);
                entry.changed.notify_one();
                return true;
            }
            reason
        };
        self.remove(entry);
        self.finish_close(entry, live, reason.expect("set above"))
            .await;
        false
    }

    fn remove(&self, entry: &Entry) {
        let mut live = lock(&self.live);
        if live
            .get(&entry.id)
            .is_some_and(|e| std::ptr::eq(&**e, entry))
        {
            live.remove(&entry.id);
        }
        lock(&entry.inner).removed = true;
        entry.changed.notify_one();
    }

    /// Closes the vendor process (bounded; past the deadline it is dropped, which kills it),
    /// then says so.
    async fn finish_close(
        &self,
        entry: &Entry,
        live: Option<Box<dyn LiveSession>>,
        reason: SessionClosedReason,
    ) {
        if let Some(live) = live {
            if tokio::time::timeout(STOP_DEADLINE, live.close())
                .await
                .is_err()
            {
                tracing::warn!(session = %entry.id, "a live session did not close in time; killed");
            }
        }
        let notifier = lock(&self.notifier).clone();
        if let Some(n) = notifier {
            n.closed(SessionClosed {
                session_id: entry.id.clone(),
                reason,
            })
            .await;
        }
        entry.gone.cancel();
    }

    /// Closes a session: at once when idle; when busy, its turn is cancelled and the session
    /// closed when the turn ends. Resolves once it is gone.
    async fn close_entry(&self, entry: Arc<Entry>, reason: SessionClosedReason) {
        let taken = {
            let mut inner = lock(&entry.inner);
            if inner.removed {
                None
            } else if let Some(live) = inner.live.take() {
                Some(live)
            } else {
                inner.close_requested.get_or_insert(reason);
                if let Some(turn) = &inner.turn {
                    turn.stop(StopReason::Cancelled);
                }
                None
            }
        };
        if let Some(live) = taken {
            self.remove(&entry);
            self.finish_close(&entry, Some(live), reason).await;
        }
        entry.gone.cancelled().await;
    }

    /// `session/close`.
    pub async fn close(&self, id: &str) -> Result<(), Refusal> {
        let entry = self.get(id).ok_or_else(|| Refusal::SessionNotFound {
            session_id: id.to_string(),
        })?;
        self.close_entry(entry, SessionClosedReason::Closed).await;
        Ok(())
    }

    /// Shutdown: stops every opening and closes every session, concurrently.
    pub async fn close_all(&self) {
        self.stop_openings();
        let entries: Vec<_> = lock(&self.live).values().cloned().collect();
        futures::future::join_all(
            entries
                .into_iter()
                .map(|e| self.close_entry(e, SessionClosedReason::Shutdown)),
        )
        .await;
    }

    /// Stops every opening (shutdown); the sessions themselves close in [`close_all`](Self::close_all).
    pub fn stop_openings(&self) {
        for opening in lock(&self.opening).values() {
            opening.stop.stop(StopReason::Shutdown);
        }
    }

    /// `session/list`: starting ones first, then by id.
    pub fn list(&self) -> Vec<SessionInfo> {
        let mut out: Vec<SessionInfo> = lock(&self.opening)
            .values()
            .map(|o| SessionInfo {
                session_id: o.resume.clone().unwrap_or_default(),
                runtime: o.runtime.clone(),
                state: SessionState::Starting,
                turns: 0,
                idle_ms: 0,
            })
            .collect();
        let mut live: Vec<SessionInfo> = lock(&self.live)
            .values()
            .map(|e| {
                let inner = lock(&e.inner);
                let busy = inner.live.is_none();
                SessionInfo {
                    session_id: e.id.clone(),
                    runtime: e.runtime.clone(),
                    state: if busy {
                        SessionState::Busy
                    } else {
                        SessionState::Idle
                    },
                    turns: inner.turns,
                    idle_ms: if busy {
                        0
                    } else {
                        inner.last_use.elapsed().as_millis() as u64
                    },
                }
            })
            .collect();
        live.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        out.extend(live);
        out
    }

    /// Takes the session out if it is idle (for the watcher).
    fn take_idle(&self, entry: &Entry) -> Option<Box<dyn LiveSession>> {
        let live = lock(&entry.inner).live.take()?;
        self.remove(entry);
        Some(live)
    }
}

/// Per session: closes it after `idleTimeoutMs` without a turn, or when its vendor exits while
/// idle (a vendor that exits during a turn is the turn's to report).
async fn watch(sessions: Arc<Sessions>, entry: Arc<Entry>) {
    loop {
        let deadline = {
            let inner = lock(&entry.inner);
            if inner.removed {
                return;
            }
            inner
                .live
                .is_some()
                .then(|| inner.last_use + inner.idle_timeout)
        };
        let idle = deadline.is_some();
        let sleep = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now).into());
        tokio::select! {
            _ = entry.ended.cancelled(), if idle => {
                if let Some(live) = sessions.take_idle(&entry) {
                    sessions.finish_close(&entry, Some(live), SessionClosedReason::Exited).await;
                    return;
                }
            }
            _ = sleep, if idle => {
                let expired = {
                    let inner = lock(&entry.inner);
                    inner.live.is_some() && inner.last_use.elapsed() >= inner.idle_timeout
                };
                if expired {
                    if let Some(live) = sessions.take_idle(&entry) {
                        sessions.finish_close(&entry, Some(live), SessionClosedReason::Idle).await;
                        return;
                    }
                }
            }
            _ = entry.changed.notified() => {}
        }
    }
}
