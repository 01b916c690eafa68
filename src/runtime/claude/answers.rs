//! Answers to the CLI's `can_use_tool` requests: tool approvals and `AskUserQuestion`.
//!
//! An approval goes to the core's [`Approvals::decide`] and comes back as `allow` (with the
//! host's `updatedInput` when it gave one, else the original input) or `deny` (`abort` adds
//! `interrupt: true`; the core also stops the task). `AskUserQuestion` goes to the host as
//! `input/request` and is answered the way Claude Code's SDKs answer it: `allow` with
//! `updatedInput { questions, answers: { <question text>: <label(s), ", "-joined> } }`, which the
//! CLI's tool turns into its result for the model. Declined questions are a `deny` whose message
//! tells the model why nobody answered.
//!
//! A request the CLI withdraws (`control_cancel_request`) drops its pending future, which makes
//! the server send `$/cancelRequest` to the host; a late answer finds no pending entry and is
//! never written.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use tokio::task::AbortHandle;

use super::wire;
use crate::protocol::methods::{Answer, Decision, Question, QuestionOption};
use crate::runtime::context::Approvals;

/// The tool the CLI uses to ask the user.
pub const ASK_USER_QUESTION: &str = "AskUserQuestion";

/// A reply ready to write, with the denial (if any) the mapper should record for the tool call.
pub struct Decided {
    pub request_id: String,
    pub tool_use_id: String,
    pub reply: Value,
    pub denied: Option<String>,
}

/// Requests being decided, by the CLI's request id.
#[derive(Default)]
pub struct Pending(HashMap<String, AbortHandle>);

impl Pending {
    pub fn insert(&mut self, request_id: String, handle: AbortHandle) {
        self.0.insert(request_id, handle);
    }

    /// `control_cancel_request { request_id }`: stop deciding it (the host's request is withdrawn).
    pub fn withdraw(&mut self, line: &Value) {
        let id = line["request_id"].as_str().unwrap_or_default();
        if let Some(handle) = self.0.remove(id) {
            tracing::debug!(request_id = id, "claude withdrew a permission request");
            handle.abort();
        }
    }

    /// Takes a finished request; `false` when it was withdrawn meanwhile (its reply is dropped).
    pub fn finish(&mut self, request_id: &str) -> bool {
        self.0.remove(request_id).is_some()
    }
}

/// Decides one `can_use_tool` request (may wait minutes for the host).
pub async fn decide(
    broker: Approvals,
    request_id: String,
    tool_use_id: String,
    name: String,
    input: Value,
) -> Decided {
    if name == ASK_USER_QUESTION {
        return ask(broker, request_id, tool_use_id, input).await;
    }
    let answer = broker.decide(&tool_use_id, &name, &input).await;
    let (reply, denied) = match answer.decision {
        Decision::Allow | Decision::AllowForSession => {
            let input = answer.updated_input.as_ref().unwrap_or(&input);
            (wire::allow(&request_id, input), None)
        }
        Decision::Deny | Decision::Abort => {
            let message = answer.message.unwrap_or_else(|| "denied".into());
            let mut reply = wire::deny(&request_id, &message);
            if answer.decision == Decision::Abort {
                // Ends the CLI's turn too, rather than letting the model try something else.
                reply["response"]["response"]["interrupt"] = json!(true);
            }
            (reply, Some(message))
        }
    };
    Decided {
        request_id,
        tool_use_id,
        reply,
        denied,
    }
}

async fn ask(broker: Approvals, request_id: String, tool_use_id: String, input: Value) -> Decided {
    let questions = questions_of(&input);
    let (reply, denied) = if questions.is_empty() {
        let why = "the question had no questions to ask".to_string();
        (wire::deny(&request_id, &why), Some(why))
    } else {
        match broker.ask_questions(Some(&tool_use_id), questions).await {
            Ok(response) => {
                let updated = with_answers(&input, &response.answers);
                (wire::allow(&request_id, &updated), None)
            }
            Err(why) => {
                let message = format!("The user did not answer: {why}. Carry on without asking.");
                (wire::deny(&request_id, &message), Some(message))
            }
        }
    };
    Decided {
        request_id,
        tool_use_id,
        reply,
        denied,
    }
}

/// AskUserQuestion's `questions[] { question, header, options[] { label, description },
/// multiSelect }` → ours; each id is the question's index (texts may repeat).
pub fn questions_of(input: &Value) -> Vec<Question> {
    let Some(list) = input["questions"].as_array() else {
        return vec![];
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, q)| {
            let text = q["question"].as_str()?.to_string();
            let options = q["options"].as_array().map(|opts| {
                opts.iter()
                    .filter_map(|o| {
                        Some(QuestionOption {
                            label: o["label"].as_str()?.to_string(),
                            description: o["description"].as_str().map(str::to_string),
                        })
                    })
                    .collect()
            });
            Some(Question {
                id: i.to_string(),
                text,
                header: q["header"].as_str().map(str::to_string),
                options,
                multi_select: q["multiSelect"].as_bool().unwrap_or(false),
            })
        })
        .collect()
}

/// The tool's input plus `answers`, keyed by question text as the CLI reads them; a multi-select
/// answer is its labels joined with ", ". Questions the host left out stay unanswered.
pub fn with_answers(input: &Value, answers: &std::collections::BTreeMap<String, Answer>) -> Value {
    let mut out = Map::new();
    if let Some(list) = input["questions"].as_array() {
        for (i, q) in list.iter().enumerate() {
            let (Some(text), Some(answer)) = (q["question"].as_str(), answers.get(&i.to_string()))
            else {
                continue;
            };
            let value = match answer {
                Answer::One(s) => s.clone(),
                Answer::Many(v) => v.join(", "),
            };
            out.insert(text.to_string(), Value::String(value));
        }
    }
    let mut updated = input.clone();
    updated["answers"] = Value::Object(out);
    updated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Value {
        json!({"questions": [
            {"question": "Which color?", "header": "Color", "multiSelect": false,
             "options": [{"label": "Red", "description": "warm"}, {"label": "Blue", "description": "cold"}]},
            {"question": "Which sizes?", "header": "Size", "multiSelect": true,
             "options": [{"label": "S", "description": ""}, {"label": "M", "description": ""}]}
        ]})
    }

    #[test]
    fn questions_map_to_ours_by_index() {
        let qs = questions_of(&input());
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].id, "0");
        assert_eq!(qs[0].text, "Which color?");
        assert_eq!(qs[0].header.as_deref(), Some("Color"));
        assert_eq!(qs[0].options.as_ref().unwrap()[1].label, "Blue");
        assert!(!qs[0].multi_select);
        assert!(qs[1].multi_select);
        assert!(questions_of(&json!({})).is_empty());
    }

    #[test]
    fn answers_are_keyed_by_question_text_and_multi_select_is_joined() {
        let answers = [
            ("0".to_string(), Answer::One("Blue".into())),
            ("1".to_string(), Answer::Many(vec!["S".into(), "M".into()])),
            ("9".to_string(), Answer::One("stray".into())),
        ]
        .into();
        let updated = with_answers(&input(), &answers);
        assert_eq!(
            updated["answers"],
            json!({"Which color?": "Blue", "Which sizes?": "S, M"})
        );
        assert_eq!(updated["questions"], input()["questions"]);
    }
}
