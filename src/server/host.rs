//! Requests the sidecar sends to the host (`approval/request`) and the matching of their replies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::transport::Outbound;
use crate::protocol::methods::{
    ApprovalParams, ApprovalRequest, ApprovalResponse, CancelServerRequest, InputRequest,
    InputRequestParams, InputResponse, Method,
};
use crate::runtime::ApprovalHost;

type Reply = Result<Value, Value>;

pub struct HostRequests {
    out: Outbound,
    next_id: AtomicU64,
    pending: Mutex<HashMap<String, oneshot::Sender<Reply>>>,
}

impl HostRequests {
    pub fn new(out: Outbound) -> Self {
        HostRequests {
            out,
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Sends a request and waits for its reply (`Err` carries the host's error object).
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, String> {
        // String ids with a prefix, so they cannot be mistaken for the host's own numbering.
        let id = format!("ark-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id.clone(), tx);
        let _guard = PendingGuard {
            host: self,
            id: &id,
        };
        self.out
            .send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error reply")
                .to_string()),
            Err(_) => Err("no reply".into()),
        }
    }

    /// Routes a response from the host (its `id`, `result` and `error` as sent). Unknown ids
    /// are logged and dropped.
    pub fn on_response(&self, id: &RawValue, result: Option<&RawValue>, error: Option<&RawValue>) {
        let Ok(id) = serde_json::from_str::<String>(id.get()) else {
            tracing::warn!(id = id.get(), "response with an id we never sent");
            return;
        };
        let Some(tx) = self.pending.lock().unwrap().remove(&id) else {
            tracing::warn!(%id, "response to no pending request");
            return;
        };
        let value = |raw: &RawValue| serde_json::from_str(raw.get()).unwrap_or(Value::Null);
        let reply = match (result, error) {
            (_, Some(e)) => Err(value(e)),
            (Some(r), None) => Ok(value(r)),
            (None, None) => Err(json!({ "message": "response without result" })),
        };
        let _ = tx.send(reply);
    }
}

/// Removes a pending entry when its waiter goes away (timeout, cancel, the vendor withdrew the
/// request). A request still unanswered then is withdrawn with `$/cancelRequest` (the LSP
/// convention), so the host can take its prompt down; a late answer finds no entry and is dropped.
struct PendingGuard<'a> {
    host: &'a HostRequests,
    id: &'a str,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        let unanswered = self.host.pending.lock().unwrap().remove(self.id).is_some();
        if unanswered {
            let out = self.host.out.clone();
            let message = json!({
                "jsonrpc": "2.0",
                "method": CancelServerRequest::NAME,
                "params": { "id": self.id },
            });
            // Drop cannot wait; the writer keeps message order per sender, and a notification
            // that arrives after the host answered is harmless (it names an id already settled).
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move { out.send(&message).await });
            }
        }
    }
}

#[async_trait]
impl ApprovalHost for HostRequests {
    async fn ask(&self, params: ApprovalParams) -> Result<ApprovalResponse, String> {
        let params = serde_json::to_value(params).map_err(|e| e.to_string())?;
        let reply = self.request(ApprovalRequest::NAME, params).await?;
        serde_json::from_value(reply).map_err(|e| format!("malformed approval reply: {e}"))
    }

    async fn ask_input(&self, params: InputRequestParams) -> Result<InputResponse, String> {
        let params = serde_json::to_value(params).map_err(|e| e.to_string())?;
        let reply = self.request(InputRequest::NAME, params).await?;
        serde_json::from_value(reply).map_err(|e| format!("malformed input/request reply: {e}"))
    }
}
