//! Approvals and questions under protocol 2026-07-28, which forbids server-to-client requests:
//! the tool call that is waiting for the task answers with an `InputRequiredResult` carrying the
//! forms as input requests, and an opaque `requestState`; the task keeps running, parked here
//! under that state, its ask pending. The client's retry of the call (same tool, the answers in
//! `inputResponses`, the state echoed) hands the answers to the task and waits for it again,
//! until its result or its next ask.
//!
//! The state is a random handle to a run kept here, never data the client could forge (the MCP
//! spec says `requestState` is untrusted). A client that does not come back within the
//! approval timeout abandoned the call: the parked run is dropped and its task cancelled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    ElicitRequest, ElicitResult, InputRequest, InputRequests, InputRequiredResult, InputResponses,
};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::elicit::Ask;
use super::progress::ProgressOutput;
use crate::protocol::RpcError;

/// A task started by a `tools/call`, between or during the calls that wait for it.
pub struct Run {
    pub task_id: String,
    pub result: JoinHandle<Result<Value, RpcError>>,
    /// What the task asks its client, one form at a time.
    pub asks: mpsc::Receiver<Ask>,
    pub progress: Arc<ProgressOutput>,
    /// Forms sent to the client and not answered yet, by input-request key.
    waiting: HashMap<String, oneshot::Sender<ElicitResult>>,
    next_key: u64,
}

impl Run {
    pub fn new(
        task_id: String,
        result: JoinHandle<Result<Value, RpcError>>,
        asks: mpsc::Receiver<Ask>,
        progress: Arc<ProgressOutput>,
    ) -> Self {
        Run {
            task_id,
            result,
            asks,
            progress,
            waiting: HashMap::new(),
            next_key: 0,
        }
    }

    /// The asks at hand (`first` and whatever else is queued) as input requests. A form whose
    /// task no longer waits (the ask was withdrawn) is not sent.
    pub fn input_requests(&mut self, first: Ask) -> InputRequests {
        let mut asks = vec![first];
        while let Ok(more) = self.asks.try_recv() {
            asks.push(more);
        }
        let mut requests = InputRequests::new();
        for ask in asks.into_iter().filter(|a| !a.reply.is_closed()) {
            self.next_key += 1;
            let key = format!("elicit-{}", self.next_key);
            requests.insert(
                key.clone(),
                InputRequest::Elicitation(ElicitRequest::new(ask.form)),
            );
            self.waiting.insert(key, ask.reply);
        }
        requests
    }

    /// Hands the client's answers to the task. A form left unanswered, or answered with
    /// something that is not an elicitation result, fails its ask (a deny, or declined
    /// questions).
    pub fn answer(&mut self, responses: Option<InputResponses>) {
        let responses = responses.unwrap_or_default();
        for (key, reply) in self.waiting.drain() {
            let answer = responses
                .get(&key)
                .and_then(|v| serde_json::from_value::<ElicitResult>(v.clone()).ok());
            match answer {
                Some(a) => {
                    let _ = reply.send(a);
                }
                None => tracing::debug!(%key, "no usable answer to an input request"),
            }
        }
    }
}

/// Runs parked between two calls, by request state.
#[derive(Clone, Default)]
pub struct Parked(Arc<Mutex<HashMap<String, Run>>>);

impl Parked {
    /// Parks `run` until the client's retry, and returns what to answer the call with. After
    /// `patience` without a retry, `abandoned` gets the run (to cancel its task).
    pub fn park(
        &self,
        run: Run,
        requests: InputRequests,
        patience: Duration,
        abandoned: impl FnOnce(Run) + Send + 'static,
    ) -> InputRequiredResult {
        run.progress.set_token(None);
        let state = uuid::Uuid::new_v4().to_string();
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(state.clone(), run);
        let parked = self.clone();
        let key = state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(patience).await;
            if let Some(run) = parked.take(&key) {
                tracing::info!(task_id = %run.task_id, "the client did not come back with its answers");
                abandoned(run);
            }
        });
        InputRequiredResult::new(Some(requests), Some(state))
    }

    pub fn take(&self, state: &str) -> Option<Run> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(state)
    }
}
