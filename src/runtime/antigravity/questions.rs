//! The agent's `ask_question` (the SDK's interaction hook in the bridge) ↔ the host's
//! `input/request`.
//!
//! Each question's id is its index (texts may repeat); an option's label is its text. A host's
//! answer that names an option's text selects that option (the harness shows the model the option
//! text); any other text is a written ("freeform") answer. A question the host left out is
//! skipped ("User Skipped" to the model). A decline (`approvals: "deny"`, no answer in time, a
//! stopped task) answers every question with the reason, so the model reads why nobody answered
//! instead of an empty or skipped answer that looks like a choice.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::wire::{QuestionResponse, SdkQuestion};
use crate::protocol::methods::{Answer, Question, QuestionOption};

/// Our name for the tool the agent asks with (the SDK's `BuiltinTools.ASK_QUESTION`).
pub const ASK_QUESTION: &str = "ask_question";

/// The SDK's questions as ours.
pub fn to_ours(questions: &[SdkQuestion]) -> Vec<Question> {
    questions
        .iter()
        .enumerate()
        .map(|(i, q)| Question {
            id: i.to_string(),
            text: q.question.clone(),
            header: None,
            options: (!q.options.is_empty()).then(|| {
                q.options
                    .iter()
                    .map(|o| QuestionOption {
                        label: o.text.clone(),
                        description: None,
                    })
                    .collect()
            }),
            multi_select: q.is_multi_select,
        })
        .collect()
}

/// The tool call's input, as the host sees it in `agent.tool.requested`.
pub fn tool_input(questions: &[SdkQuestion]) -> Value {
    json!({ "questions": questions })
}

/// The host's answers as the SDK's responses, one per question.
pub fn responses(
    questions: &[SdkQuestion],
    answers: &BTreeMap<String, Answer>,
) -> Vec<QuestionResponse> {
    questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let given: Vec<&str> = match answers.get(&i.to_string()) {
                None => return skipped(),
                Some(Answer::One(s)) => vec![s.as_str()],
                Some(Answer::Many(v)) => v.iter().map(String::as_str).collect(),
            };
            let mut r = QuestionResponse::default();
            let mut written = vec![];
            for text in given {
                match q.options.iter().find(|o| o.text.trim() == text.trim()) {
                    Some(o) => r.selected_option_ids.push(o.id.clone()),
                    None => written.push(text),
                }
            }
            r.freeform_response = written.join(", ");
            if r.selected_option_ids.is_empty() && r.freeform_response.is_empty() {
                return skipped();
            }
            r
        })
        .collect()
}

fn skipped() -> QuestionResponse {
    QuestionResponse {
        skipped: true,
        ..Default::default()
    }
}

/// The tool call's output: each question's text and what the host answered.
pub fn answered_output(questions: &[SdkQuestion], answers: &BTreeMap<String, Answer>) -> Value {
    let mut out = serde_json::Map::new();
    for (i, q) in questions.iter().enumerate() {
        if let Some(a) = answers.get(&i.to_string()) {
            out.insert(q.question.clone(), json!(a));
        }
    }
    json!({ "answers": out })
}

/// What the model reads when nobody answered.
pub fn declined_message(why: &str) -> String {
    format!("the user did not answer ({why}); carry on without asking")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::antigravity::wire::SdkOption;

    fn qs() -> Vec<SdkQuestion> {
        let opts = |texts: &[&str]| {
            texts
                .iter()
                .enumerate()
                .map(|(j, t)| SdkOption {
                    id: (j + 1).to_string(),
                    text: t.to_string(),
                })
                .collect()
        };
        vec![
            SdkQuestion {
                question: "Which color?".into(),
                options: opts(&["Red", "Blue"]),
                is_multi_select: false,
            },
            SdkQuestion {
                question: "Which sizes?".into(),
                options: opts(&["S", "M", "L"]),
                is_multi_select: true,
            },
            SdkQuestion {
                question: "Name?".into(),
                options: opts(&["a", "b"]),
                is_multi_select: false,
            },
            SdkQuestion {
                question: "Skipped?".into(),
                options: opts(&["x", "y"]),
                is_multi_select: false,
            },
        ]
    }

    #[test]
    fn questions_are_ours_by_index_with_option_texts_as_labels() {
        let ours = to_ours(&qs());
        assert_eq!(ours[1].id, "1");
        assert_eq!(ours[1].text, "Which sizes?");
        assert!(ours[1].multi_select);
        assert_eq!(ours[0].options.as_ref().unwrap()[1].label, "Blue");
    }

    #[test]
    fn labels_select_options_other_text_is_written_and_missing_is_skipped() {
        let answers = BTreeMap::from([
            ("0".to_string(), Answer::One("Blue".into())),
            (
                "1".to_string(),
                Answer::Many(vec!["S".into(), "L".into(), "XL".into()]),
            ),
            ("2".to_string(), Answer::One("Ada".into())),
        ]);
        let r = responses(&qs(), &answers);
        assert_eq!(r[0].selected_option_ids, vec!["2"]);
        assert_eq!(r[1].selected_option_ids, vec!["1", "3"]);
        assert_eq!(r[1].freeform_response, "XL");
        assert!(r[2].selected_option_ids.is_empty());
        assert_eq!(r[2].freeform_response, "Ada");
        assert!(r[3].skipped);
        let out = answered_output(&qs(), &answers);
        assert_eq!(out["answers"]["Which color?"], "Blue");
        assert!(out["answers"].get("Skipped?").is_none());
    }
}
