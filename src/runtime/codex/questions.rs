//! Codex asking the user: `item/tool/requestUserInput` (the model's questions) and
//! `mcpServer/elicitation/request` (an MCP server's form), both through `input/request`.
//!
//! Shapes from the pinned codex 0.171.0 (`codex app-server generate-json-schema`):
//! `ToolRequestUserInputParams { itemId, questions[] { id, header, question, options?[] { label,
//! description }, isOther, isSecret } }` → `{ answers: { <id>: { answers: [string] } } }`;
//! elicitation params `{ serverName, message, mode: "form", requestedSchema { properties, required } }`
//! → `{ action: accept|decline|cancel, content? }`.
//!
//! A declined `requestUserInput` (approvals "deny", no answer in time) answers every question with
//! a note saying nobody answered, so the model knows rather than reading an empty answer. An
//! elicitation whose form is not simple (a field other than string, enum or boolean, or url mode)
//! is declined; the reason goes to the log (codex's reply has no field for it).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::protocol::methods::{Answer, Question, QuestionOption};
use crate::protocol::task::{ApprovalMode, Permissions};
use crate::runtime::Approvals;

/// Codex 0.171.0 offers `request_user_input` to the model but answers it "unavailable in Default
/// mode" unless this feature is on: on when the host answers questions; off with approvals
/// "deny", where nobody could.
pub fn enable(config: &mut Map<String, Value>, perms: &Permissions) {
    if perms.approvals == ApprovalMode::Host {
        config.insert(
            "features.default_mode_request_user_input".into(),
            Value::Bool(true),
        );
    }
}

pub async fn user_input(approvals: &Approvals, item_id: &str, params: &Value) -> Value {
    let asked = user_input_questions(params);
    let ids: Vec<String> = asked.iter().map(|q| q.id.clone()).collect();
    let answers = match approvals.ask_questions(Some(item_id), asked).await {
        Ok(r) => r.answers,
        Err(why) => ids
            .iter()
            .map(|id| (id.clone(), Answer::One(format!("(no answer: {why})"))))
            .collect(),
    };
    user_input_reply(&answers)
}

pub fn user_input_questions(params: &Value) -> Vec<Question> {
    params["questions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|q| {
            Some(Question {
                id: q["id"].as_str()?.to_string(),
                text: q["question"].as_str().unwrap_or_default().to_string(),
                header: q["header"].as_str().map(str::to_string),
                options: q["options"].as_array().map(|opts| {
                    opts.iter()
                        .filter_map(|o| {
                            Some(QuestionOption {
                                label: o["label"].as_str()?.to_string(),
                                description: o["description"].as_str().map(str::to_string),
                            })
                        })
                        .collect()
                }),
                multi_select: false,
            })
        })
        .collect()
}

pub fn user_input_reply(answers: &BTreeMap<String, Answer>) -> Value {
    let out: Map<String, Value> = answers
        .iter()
        .map(|(id, a)| {
            let list = match a {
                Answer::One(s) => vec![s.clone()],
                Answer::Many(v) => v.clone(),
            };
            (id.clone(), json!({ "answers": list }))
        })
        .collect();
    json!({ "answers": out })
}

/// One form field we can ask as a question, and how its answer is written back.
#[derive(Debug, PartialEq)]
enum Field {
    Text,
    /// Labels shown → the values written.
    Choice(Vec<(String, String)>),
    Bool,
}

pub async fn elicitation(approvals: &Approvals, params: &Value) -> Value {
    let (questions, fields) = match elicitation_questions(params) {
        Ok(q) => q,
        Err(why) => {
            tracing::info!(server = ?params["serverName"], "declined an MCP elicitation: {why}");
            return json!({ "action": "decline" });
        }
    };
    match approvals.ask_questions(None, questions).await {
        Ok(r) => json!({ "action": "accept", "content": elicitation_content(&fields, &r.answers) }),
        Err(why) => {
            tracing::info!(server = ?params["serverName"], "declined an MCP elicitation: {why}");
            json!({ "action": "decline" })
        }
    }
}

type Fields = Vec<(String, Field)>;

fn elicitation_questions(params: &Value) -> Result<(Vec<Question>, Fields), String> {
    if params["mode"] != "form" {
        return Err(format!("mode {} is not a simple form", params["mode"]));
    }
    let message = params["message"].as_str().unwrap_or_default();
    let props = params["requestedSchema"]["properties"]
        .as_object()
        .ok_or("the form has no properties")?;
    let mut questions = vec![];
    let mut fields = vec![];
    for (name, schema) in props {
        let field = field_of(schema).ok_or_else(|| format!("field {name} is not simple"))?;
        let label = schema["title"]
            .as_str()
            .or(schema["description"].as_str())
            .unwrap_or(name);
        let text = if props.len() == 1 {
            message.to_string()
        } else {
            format!("{message}\n{label}")
        };
        let options = match &field {
            Field::Text => None,
            Field::Choice(c) => Some(
                c.iter()
                    .map(|(label, _)| QuestionOption {
                        label: label.clone(),
                        description: None,
                    })
                    .collect(),
            ),
            Field::Bool => Some(
                ["yes", "no"]
                    .map(|l| QuestionOption {
                        label: l.into(),
                        description: None,
                    })
                    .into(),
            ),
        };
        questions.push(Question {
            id: name.clone(),
            text,
            header: params["serverName"].as_str().map(str::to_string),
            options,
            multi_select: false,
        });
        fields.push((name.clone(), field));
    }
    Ok((questions, fields))
}

fn field_of(schema: &Value) -> Option<Field> {
    match schema["type"].as_str()? {
        "boolean" => Some(Field::Bool),
        "string" => {
            if let Some(items) = schema["oneOf"].as_array() {
                let choices = items
                    .iter()
                    .map(|o| {
                        let value = o["const"].as_str()?.to_string();
                        let title = o["title"].as_str().unwrap_or(&value).to_string();
                        Some((title, value))
                    })
                    .collect::<Option<Vec<_>>>()?;
                return Some(Field::Choice(choices));
            }
            if let Some(values) = schema["enum"].as_array() {
                let names = schema["enumNames"].as_array();
                let choices = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let value = v.as_str()?.to_string();
                        let title = names
                            .and_then(|n| n.get(i))
                            .and_then(Value::as_str)
                            .unwrap_or(&value)
                            .to_string();
                        Some((title, value))
                    })
                    .collect::<Option<Vec<_>>>()?;
                return Some(Field::Choice(choices));
            }
            Some(Field::Text)
        }
        _ => None,
    }
}

fn elicitation_content(fields: &Fields, answers: &BTreeMap<String, Answer>) -> Value {
    let mut out = Map::new();
    for (name, field) in fields {
        let Some(answer) = answers.get(name) else {
            continue;
        };
        let text = match answer {
            Answer::One(s) => s.clone(),
            Answer::Many(v) => v.first().cloned().unwrap_or_default(),
        };
        let value = match field {
            Field::Text => json!(text),
            Field::Bool => json!(matches!(text.to_lowercase().as_str(), "yes" | "true")),
            Field::Choice(c) => json!(c
                .iter()
                .find(|(label, value)| *label == text || *value == text)
                .map(|(_, value)| value.clone())
                .unwrap_or(text)),
        };
        out.insert(name.clone(), value);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_input_maps_both_ways() {
        let params = json!({"itemId": "call_1", "isBlocking": true, "threadId": "t", "turnId": "u",
            "questions": [{"id": "db", "header": "Database", "question": "Which database?",
                           "isOther": true, "isSecret": false,
                           "options": [{"label": "Postgres", "description": "relational"}]}]});
        let qs = user_input_questions(&params);
        assert_eq!(qs[0].id, "db");
        assert_eq!(qs[0].text, "Which database?");
        assert_eq!(qs[0].header.as_deref(), Some("Database"));
        assert_eq!(qs[0].options.as_ref().unwrap()[0].label, "Postgres");
        let answers = [("db".to_string(), Answer::One("Postgres".into()))].into();
        assert_eq!(
            user_input_reply(&answers),
            json!({"answers": {"db": {"answers": ["Postgres"]}}})
        );
    }

    #[test]
    fn simple_forms_become_questions_and_answers_become_content() {
        let params = json!({"serverName": "deploy", "mode": "form", "message": "Deploy where?",
        "requestedSchema": {"type": "object", "properties": {
            "env": {"type": "string", "oneOf": [{"const": "prod", "title": "Production"},
                                                 {"const": "dev", "title": "Development"}]},
            "note": {"type": "string", "title": "A note"},
            "force": {"type": "boolean"}
        }}});
        let (qs, fields) = elicitation_questions(&params).unwrap();
        assert_eq!(qs.len(), 3);
        let env = qs.iter().find(|q| q.id == "env").unwrap();
        assert_eq!(env.options.as_ref().unwrap()[0].label, "Production");
        assert_eq!(env.header.as_deref(), Some("deploy"));
        let answers = [
            ("env".to_string(), Answer::One("Production".into())),
            ("note".to_string(), Answer::One("go".into())),
            ("force".to_string(), Answer::One("yes".into())),
        ]
        .into();
        assert_eq!(
            elicitation_content(&fields, &answers),
            json!({"env": "prod", "note": "go", "force": true})
        );
    }

    #[test]
    fn other_forms_are_refused() {
        let number = json!({"mode": "form", "message": "m",
            "requestedSchema": {"type": "object", "properties": {"n": {"type": "number"}}}});
        assert!(elicitation_questions(&number).is_err());
        let url = json!({"mode": "url", "message": "m", "url": "https://x", "elicitationId": "e"});
        assert!(elicitation_questions(&url).is_err());
    }
}
