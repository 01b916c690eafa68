//! The session requests every front end can make: `session/open` (prewarm), `session/close`,
//! `session/list`, `steer`. Turns themselves are runs (`run.rs`).

use std::sync::Arc;

use tokio::sync::mpsc::error::TrySendError;

use super::validate::check_task;
use super::{lock, Core, Refusal, SessionNotifier, STOP_DEADLINE};
use crate::protocol::methods::{SessionInfo, SessionOpenParams, SessionOpenResult, SteerResult};
use crate::protocol::runtime_info::{Diagnosis, DiagnosisStatus};
use crate::runtime::{OpenContext, SessionGrants, Stop};

impl Core {
    /// Where `session/closed` notifications go (`None`: nowhere, e.g. once the front end stops).
    pub fn set_session_notifier(&self, notifier: Option<Arc<dyn SessionNotifier>>) {
        self.sessions.set_notifier(notifier);
    }

    /// `steer`: adds text to a running turn.
    pub fn steer(&self, task_id: &str, text: String) -> Result<SteerResult, Refusal> {
        let running = lock(&self.running);
        // A task that is being stopped (cancelled, timed out) takes no more input: its runtime
        // has interrupted the vendor and no longer reads steering text, so accepting it would
        // lose it silently.
        let Some(task) = running.get(task_id).filter(|t| !t.stop.is_stopped()) else {
            return Err(Refusal::TaskNotFound {
                task_id: task_id.to_string(),
            });
        };
        let Some(tx) = &task.steer else {
            return Err(Refusal::unsupported(
                &task.runtime,
                "steer",
                "this runtime cannot take input during a turn",
            ));
        };
        match tx.try_send(text) {
            Ok(()) => Ok(SteerResult { accepted: true }),
            // The runtime is not reading as fast as the host steers: said, not queued forever.
            Err(TrySendError::Full(_)) => Ok(SteerResult { accepted: false }),
            Err(TrySendError::Closed(_)) => Err(Refusal::TaskNotFound {
                task_id: task_id.to_string(),
            }),
        }
    }

    /// `session/open`: starts the vendor and answers once it is ready for a first turn.
    pub async fn open_session(
        &self,
        params: SessionOpenParams,
    ) -> Result<SessionOpenResult, Refusal> {
        let runtime = self.registry.get(&params.runtime)?;
        if self.is_shutting_down() {
            return Err(Refusal::ShuttingDown);
        }
        let info = runtime.info().clone();
        let caps = &info.capabilities;
        if !caps.live_sessions || !caps.prewarm {
            return Err(Refusal::unsupported(
                &info.name,
                "session/open",
                "this runtime cannot open a live session ahead of a turn",
            ));
        }
        // What `session/open` opens is kept alive by definition: a runtime's `plan` sees it so
        // (and refuses what it cannot hold across turns, as for a keepAlive run).
        let mut task = params.task.0;
        task.session.get_or_insert_with(Default::default).keep_alive = true;
        let wd = check_task(&info, &task, &self.cwd)?;
        let planned = runtime.plan(&task, &wd)?;
        if let Some(diagnosis) = planned.preflight().await {
            return Err(Refusal::Unavailable {
                runtime: info.name.clone(),
                diagnosis: Box::new(diagnosis),
            });
        }
        // Held while the vendor starts; the session entry holds its own lease from then on.
        let _secrets = super::run::learn_task_secrets(&task);
        let stop = Stop::default();
        let _starting = self.sessions.opening(&info.name, task.resume(), &stop);
        let ctx = OpenContext {
            task: task.clone(),
            options: params.options.unwrap_or_default(),
            working_directory: wd.clone(),
            stop: stop.clone(),
        };
        let opened = tokio::select! {
            r = planned.open(ctx) => r,
            // A runtime that ignores its stop is abandoned (dropped: its processes killed).
            _ = async { stop.stopped().await; tokio::time::sleep(STOP_DEADLINE).await } => {
                return Err(Refusal::ShuttingDown);
            }
        };
        let live = opened.map_err(|failed| Refusal::Unavailable {
            runtime: info.name.clone(),
            diagnosis: Box::new(Diagnosis {
                runtime: info.name.clone(),
                status: DiagnosisStatus::Error,
                binary: None,
                message: failed
                    .error
                    .map(|e| e.message)
                    .unwrap_or_else(|| "the live session could not be opened".into()),
                remedy: None,
            }),
        })?;
        if stop.is_stopped() {
            // Shutdown came while opening: nothing may be left behind.
            live.close().await;
            return Err(Refusal::ShuttingDown);
        }
        let (entry, _) =
            self.sessions
                .insert(live, &info.name, task, wd, SessionGrants::default(), None);
        Ok(SessionOpenResult {
            session_id: entry.id.clone(),
            runtime: info.name.clone(),
        })
    }

    /// `session/close`: resolves once the vendor process is gone.
    pub async fn close_session(&self, session_id: &str) -> Result<(), Refusal> {
        self.sessions.close(session_id).await
    }

    /// `session/list`.
    pub fn list_sessions(&self) -> Vec<SessionInfo> {
        self.sessions.list()
    }

    /// Shutdown: closes every live session (reason `shutdown`), bounded by the stop deadline.
    pub async fn close_sessions(&self) {
        self.sessions.close_all().await;
    }
}
