//! Approvals and questions of a `run_task` as MCP form elicitations (`elicitation/create`).
//!
//! MCP has no "approval" request; what it has is elicitation: the server asks the client's *user*
//! to fill in a small form. So each approval is a form with one required `decision` field (allow,
//! allowForSession, deny, abort) and an optional `message`; each set of questions is a form with
//! one field per question. The client's `decline` or `cancel` of an approval is a deny (never an
//! abort: ending the task is only what the user picks explicitly); of questions, a declined
//! answer that the agent is told about.
//!
//! Only for clients that declared the `elicitation` capability (form mode). Before protocol
//! 2026-07-28 each form is an `elicitation/create` request; from 2026-07-28 on, which forbids
//! server-to-client requests, it is an input request of the tool call (`rounds.rs`).

use async_trait::async_trait;
use rmcp::model::{
    CancelledNotificationParam, ClientCapabilities, ClientResult, ElicitRequest,
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema, EnumSchema,
    PrimitiveSchemaDefinition, ProtocolVersion, RequestId, ServerRequest, StringSchema,
};
use rmcp::service::PeerRequestOptions;
use rmcp::{Peer, RoleServer};
use serde_json::Value;

use crate::protocol::methods::{
    Answer, ApprovalParams, ApprovalResponse, Decision, InputRequestParams, InputResponse,
};
use crate::runtime::ApprovalHost;

/// The approval form's fields.
pub const DECISION_FIELD: &str = "decision";
pub const MESSAGE_FIELD: &str = "message";

/// Why a call with `approvals: "host"` cannot be served over this connection, if it cannot.
pub fn unavailable(capabilities: Option<&ClientCapabilities>) -> Option<&'static str> {
    let form = capabilities
        .and_then(|c| c.elicitation.as_ref())
        // A capability naming neither mode means form (the 2025-06-18 shape).
        .is_some_and(|e| e.form.is_some() || e.url.is_none());
    (!form).then_some(
        "the MCP client did not declare the elicitation capability (form mode), so there is no \
         channel to ask its user for approvals",
    )
}

/// Whether elicitations on this connection are input-required round trips (protocol 2026-07-28
/// and later forbid server-to-client requests) rather than `elicitation/create` requests.
pub fn by_rounds(version: Option<&ProtocolVersion>) -> bool {
    version.is_some_and(|v| *v >= ProtocolVersion::V_2026_07_28)
}

/// One form for the client, and where its answer goes (protocol 2026-07-28: the server answers
/// the tool call with it as an input request, and the client's retry carries the answer). A
/// dropped `reply` receiver means the request was withdrawn.
pub struct Ask {
    pub form: ElicitRequestParams,
    pub reply: tokio::sync::oneshot::Sender<ElicitResult>,
}

/// Asks the MCP client's user, through form elicitation, for the approvals and answers of one
/// tool call's task.
pub enum ElicitHost {
    /// `elicitation/create` requests to the client (protocols before 2026-07-28).
    Request(Peer<RoleServer>),
    /// Input-required round trips of the tool call (`rounds.rs`).
    Rounds(tokio::sync::mpsc::Sender<Ask>),
}

impl ElicitHost {
    async fn elicit(&self, form: ElicitRequestParams) -> Result<ElicitResult, String> {
        match self {
            ElicitHost::Request(peer) => request(peer, form).await,
            ElicitHost::Rounds(asks) => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                asks.send(Ask { form, reply })
                    .await
                    .map_err(|_| "the tool call is no longer driven".to_string())?;
                // Dropping this future drops `answer`: the server sees the ask withdrawn.
                answer
                    .await
                    .map_err(|_| "the client did not answer (the call was abandoned)".into())
            }
        }
    }
}

/// Sends one form and waits for the answer. Dropping the future withdraws the request with
/// `notifications/cancelled` (the core drops it when the task stops or the vendor withdraws the
/// approval); a late answer then finds no one waiting and is ignored by rmcp.
async fn request(
    peer: &Peer<RoleServer>,
    params: ElicitRequestParams,
) -> Result<ElicitResult, String> {
    let request = ServerRequest::ElicitRequest(ElicitRequest::new(params));
    let handle = peer
        .send_cancellable_request(request, PeerRequestOptions::no_options())
        .await
        .map_err(|e| format!("elicitation not sent: {e}"))?;
    let mut pending = Withdraw {
        peer: peer.clone(),
        id: Some(handle.id.clone()),
    };
    let answer = handle.await_response().await;
    pending.id = None;
    match answer {
        Ok(ClientResult::ElicitResult(r)) => Ok(r),
        Ok(_) => Err("the client answered the elicitation with another result".into()),
        Err(e) => Err(format!("elicitation failed: {e}")),
    }
}

#[async_trait]
impl ApprovalHost for ElicitHost {
    async fn ask(&self, params: ApprovalParams) -> Result<ApprovalResponse, String> {
        let answer = self.elicit(approval_form(&params)).await?;
        Ok(approval_answer(&answer))
    }

    async fn ask_input(&self, params: InputRequestParams) -> Result<InputResponse, String> {
        let answer = self.elicit(question_form(&params)).await?;
        question_answer(&params, &answer)
    }
}

/// Sends `notifications/cancelled` for an elicitation still pending when it is dropped.
struct Withdraw {
    peer: Peer<RoleServer>,
    id: Option<RequestId>,
}

impl Drop for Withdraw {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let peer = self.peer.clone();
        rt.spawn(async move {
            let reason = "withdrawn: the task no longer waits for this answer".to_string();
            let param = CancelledNotificationParam::new(Some(id), Some(reason));
            if let Err(e) = peer.notify_cancelled(param).await {
                tracing::debug!("elicitation withdrawal not sent: {e}");
            }
        });
    }
}

/// "The agent wants to run Bash" with the whole (redacted) input, and the decision field.
pub fn approval_form(p: &ApprovalParams) -> ElicitRequestParams {
    let input = serde_json::to_string_pretty(&p.input).unwrap_or_else(|_| p.input.to_string());
    let message = format!(
        "The agent (task {}) asks to run the tool {} with this input:\n{input}\n\nAllow it?",
        p.task_id, p.name
    );
    let decision = EnumSchema::builder(
        ["allow", "allowForSession", "deny", "abort"]
            .map(String::from)
            .to_vec(),
    )
    .enum_titles(
        [
            "Allow",
            "Allow for the rest of the session",
            "Deny",
            "Deny and stop the task",
        ]
        .map(String::from)
        .to_vec(),
    )
    .expect("as many titles as values")
    .title("Decision")
    .build();
    let schema = ElicitationSchema::builder()
        .required_enum_schema(DECISION_FIELD, decision)
        .string_property(MESSAGE_FIELD, |s| {
            s.title("Message to the agent")
                .description("Optional: why, or what to do instead")
        })
        .build()
        .expect("a valid form");
    form(message, schema)
}

/// The client's answer → a decision. Decline, cancel, or an answer without a valid decision: deny.
pub fn approval_answer(r: &ElicitResult) -> ApprovalResponse {
    let deny = |why: &str| ApprovalResponse {
        decision: Decision::Deny,
        message: Some(why.to_string()),
        updated_input: None,
    };
    match r.action {
        ElicitationAction::Accept => {}
        ElicitationAction::Decline => return deny("the user declined the approval request"),
        _ => return deny("the user dismissed the approval request"),
    }
    let content = r.content.as_ref();
    let decision = content
        .and_then(|c| c.get(DECISION_FIELD))
        .cloned()
        .and_then(|d| serde_json::from_value::<Decision>(d).ok());
    let Some(decision) = decision else {
        return deny("the client's answer carried no valid decision");
    };
    let message = content
        .and_then(|c| c.get(MESSAGE_FIELD))
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .map(str::to_string);
    ApprovalResponse {
        decision,
        message,
        updated_input: None,
    }
}

/// One field per question, keyed by its id: a choice of the option labels when there are
/// options (an array of them for a multi-select), else free text. Every field is required: a
/// user who does not want to answer declines the form.
pub fn question_form(p: &InputRequestParams) -> ElicitRequestParams {
    let mut builder = ElicitationSchema::builder();
    for q in &p.questions {
        let title = q.header.clone().unwrap_or_else(|| q.text.clone());
        let field = match q.options.as_ref().filter(|o| !o.is_empty()) {
            Some(options) => {
                let labels: Vec<String> = options.iter().map(|o| o.label.clone()).collect();
                let choice = EnumSchema::builder(labels)
                    .title(title)
                    .description(q.text.clone());
                PrimitiveSchemaDefinition::Enum(if q.multi_select {
                    choice.multiselect().build()
                } else {
                    choice.build()
                })
            }
            None => PrimitiveSchemaDefinition::String(
                StringSchema::new().title(title).description(q.text.clone()),
            ),
        };
        builder = builder.required_property(q.id.clone(), field);
    }
    let schema = builder.build().expect("a valid form");
    let message = match p.questions.as_slice() {
        [one] => format!("The agent (task {}) asks: {}", p.task_id, one.text),
        many => format!(
            "The agent (task {}) asks {} questions:\n{}",
            p.task_id,
            many.len(),
            many.iter()
                .map(|q| format!("- {}", q.text))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    form(message, schema)
}

/// The client's answer → `{answers}`. Decline or cancel: an error the agent is told.
pub fn question_answer(p: &InputRequestParams, r: &ElicitResult) -> Result<InputResponse, String> {
    match r.action {
        ElicitationAction::Accept => {}
        ElicitationAction::Decline => return Err("the user declined to answer".into()),
        _ => return Err("the user dismissed the question".into()),
    }
    let mut response = InputResponse::default();
    for q in &p.questions {
        let Some(v) = r.content.as_ref().and_then(|c| c.get(&q.id)) else {
            continue;
        };
        let answer = match v {
            Value::String(s) => Answer::One(s.clone()),
            Value::Array(items) => Answer::Many(
                items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            ),
            Value::Null => continue,
            other => Answer::One(other.to_string()),
        };
        response.answers.insert(q.id.clone(), answer);
    }
    Ok(response)
}

fn form(message: String, requested_schema: ElicitationSchema) -> ElicitRequestParams {
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        requested_schema,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::{Question, QuestionOption};
    use serde_json::json;

    fn result(v: Value) -> ElicitResult {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_approval_form_offers_the_four_decisions() {
        let p = ApprovalParams {
            task_id: "t".into(),
            tool_call_id: "c".into(),
            name: "Bash".into(),
            input: json!({"command": "rm -rf build"}),
        };
        let v = serde_json::to_value(approval_form(&p)).unwrap();
        assert_eq!(v["mode"], "form");
        assert!(v["message"].as_str().unwrap().contains("rm -rf build"));
        let s = &v["requestedSchema"];
        assert_eq!(s["required"], json!(["decision"]));
        let values: Vec<&str> = s["properties"]["decision"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["const"].as_str().unwrap())
            .collect();
        assert_eq!(values, ["allow", "allowForSession", "deny", "abort"]);
    }

    #[test]
    fn approval_answers_map_to_decisions() {
        let a = approval_answer(&result(
            json!({"action": "accept", "content": {"decision": "allowForSession", "message": "ok"}}),
        ));
        assert_eq!(a.decision, Decision::AllowForSession);
        assert_eq!(a.message.as_deref(), Some("ok"));
        for r in [
            json!({"action": "decline"}),
            json!({"action": "cancel"}),
            json!({"action": "accept", "content": {"decision": "maybe"}}),
        ] {
            assert_eq!(approval_answer(&result(r)).decision, Decision::Deny);
        }
    }

    #[test]
    fn questions_become_fields() {
        let q = |id: &str, options: Option<Vec<&str>>, multi| Question {
            id: id.into(),
            text: format!("{id}?"),
            header: None,
            options: options.map(|o| {
                o.into_iter()
                    .map(|l| QuestionOption {
                        label: l.into(),
                        description: None,
                    })
                    .collect()
            }),
            multi_select: multi,
        };
        let p = InputRequestParams {
            task_id: "t".into(),
            tool_call_id: None,
            questions: vec![
                q("color", Some(vec!["red", "blue"]), false),
                q("sizes", Some(vec!["S", "M"]), true),
                q("name", None, false),
            ],
        };
        let v = serde_json::to_value(question_form(&p)).unwrap();
        let props = &v["requestedSchema"]["properties"];
        assert_eq!(props["color"]["enum"], json!(["red", "blue"]));
        assert_eq!(props["sizes"]["type"], "array");
        assert_eq!(props["sizes"]["items"]["enum"], json!(["S", "M"]));
        assert_eq!(props["name"]["type"], "string");

        let answers = question_answer(
            &p,
            &result(json!({"action": "accept",
                "content": {"color": "blue", "sizes": ["S", "M"], "name": "Ada"}})),
        )
        .unwrap();
        assert_eq!(answers.answers["color"], Answer::One("blue".into()));
        assert_eq!(
            answers.answers["sizes"],
            Answer::Many(vec!["S".into(), "M".into()])
        );
        assert!(question_answer(&p, &result(json!({"action": "decline"}))).is_err());
    }
}
