//! `turn/start`'s `input`: the goal and the task's attachments as codex 0.171.0's `UserInput`
//! items (`codex app-server generate-json-schema`): an image as `{type: "image", url: "data:…"}`
//! (the bytes checked at admission, not a path codex would read again later), a file as a text
//! item naming it.

use serde_json::{json, Value};

use crate::runtime::attachments::Loaded;

pub fn items(goal: &str, attachments: &[Loaded]) -> Vec<Value> {
    let mut items: Vec<Value> = attachments
        .iter()
        .map(|a| match a {
            Loaded::Image { .. } => json!({ "type": "image", "url": a.data_url() }),
            Loaded::File { .. } => json!({ "type": "text", "text": a.file_text() }),
        })
        .collect();
    if !goal.is_empty() || items.is_empty() {
        items.push(json!({ "type": "text", "text": goal }));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_come_before_the_goal() {
        let got = items(
            "describe it",
            &[
                Loaded::Image {
                    media_type: "image/png",
                    base64: "iVBO".into(),
                    name: None,
                },
                Loaded::File {
                    name: "a.txt".into(),
                    text: "hi".into(),
                },
            ],
        );
        assert_eq!(
            got[0],
            json!({"type": "image", "url": "data:image/png;base64,iVBO"})
        );
        assert!(got[1]["text"].as_str().unwrap().contains("hi"));
        assert_eq!(got[2], json!({"type": "text", "text": "describe it"}));
        assert_eq!(items("", &[]), vec![json!({"type": "text", "text": ""})]);
    }
}
