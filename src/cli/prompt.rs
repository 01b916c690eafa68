//! `run` as the host of `approvals: "host"`: approvals and the agent's questions are asked on the
//! terminal (prompt on stderr, answer on stdin). Without a terminal `run` refuses such a task up
//! front (see [`needs_terminal`]) rather than turning every approval into a silent deny.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use async_trait::async_trait;

use super::output::escape_controls;
use crate::protocol::methods::{
    Answer, ApprovalParams, ApprovalResponse, Decision, InputRequestParams, InputResponse, Question,
};
use crate::runtime::context::ApprovalHost;

/// How many unreadable answers before a prompt gives up (and declines).
const TRIES: usize = 3;

/// Whether `run` can ask on this terminal: stdin to read answers, stderr to show prompts.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The refusal for a host-approval task without a terminal.
pub fn needs_terminal() -> &'static str {
    "permissions.approvals \"host\" needs a terminal to ask on (stdin and stderr): `run` has \
     none here. Use \"deny\" (the default) with allowedTools, or the JSON-RPC server (`serve`) \
     to answer approvals from a program"
}

/// Asks on the terminal, one prompt at a time.
pub struct TerminalHost {
    // One prompt at a time: parallel tool calls must not interleave their questions.
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl TerminalHost {
    pub fn new() -> TerminalHost {
        TerminalHost {
            lock: Default::default(),
        }
    }

    /// Shows `prompt` on stderr and reads one line (`None` at end of input).
    async fn read(&self, prompt: String) -> Option<String> {
        tokio::task::spawn_blocking(move || {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{prompt}");
            let _ = err.flush();
            let mut line = String::new();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(0) | Err(_) => None,
                Ok(_) => Some(line.trim().to_string()),
            }
        })
        .await
        .ok()
        .flatten()
    }
}

#[async_trait]
impl ApprovalHost for TerminalHost {
    async fn ask(&self, params: ApprovalParams) -> Result<ApprovalResponse, String> {
        let _one = self.lock.lock().await;
        let input = params.input.to_string();
        let input = escape_controls(&input);
        let mut prompt = format!(
            "\napproval: {} {input}\n[a]llow, allow for the [s]ession, [d]eny, a[b]ort? ",
            escape_controls(&params.name)
        );
        for _ in 0..TRIES {
            let line = self.read(prompt).await.ok_or("no answer (end of input)")?;
            if let Some(decision) = parse_decision(&line) {
                return Ok(ApprovalResponse {
                    decision,
                    message: (!decision.allows()).then(|| "denied on the terminal".to_string()),
                    updated_input: None,
                });
            }
            prompt = "please answer a, s, d or b: ".into();
        }
        Err("no readable answer".into())
    }

    async fn ask_input(&self, params: InputRequestParams) -> Result<InputResponse, String> {
        let _one = self.lock.lock().await;
        let mut answers = std::collections::BTreeMap::new();
        for q in &params.questions {
            let line = self
                .read(question_prompt(q))
                .await
                .ok_or("no answer (end of input)")?;
            answers.insert(q.id.clone(), parse_answer(q, &line));
        }
        Ok(InputResponse { answers })
    }
}

pub fn parse_decision(line: &str) -> Option<Decision> {
    match line.trim().to_ascii_lowercase().as_str() {
        "a" | "allow" | "y" | "yes" => Some(Decision::Allow),
        "s" | "session" | "allow for session" | "allowforsession" => {
            Some(Decision::AllowForSession)
        }
        "d" | "deny" | "n" | "no" => Some(Decision::Deny),
        "b" | "abort" => Some(Decision::Abort),
        _ => None,
    }
}

fn question_prompt(q: &Question) -> String {
    let mut p = String::from("\n");
    if let Some(h) = &q.header {
        p.push_str(&format!("[{}] ", escape_controls(h)));
    }
    p.push_str(&escape_controls(&q.text));
    p.push('\n');
    for (i, o) in q.options.iter().flatten().enumerate() {
        p.push_str(&format!("  {}. {}", i + 1, escape_controls(&o.label)));
        if let Some(d) = o.description.as_deref().filter(|d| !d.is_empty()) {
            p.push_str(&format!(" ({})", escape_controls(d)));
        }
        p.push('\n');
    }
    p.push_str(match (&q.options, q.multi_select) {
        (Some(_), true) => "numbers separated by commas, or type an answer: ",
        (Some(_), false) => "a number, or type an answer: ",
        (None, _) => "answer: ",
    });
    p
}

/// A line → the answer: option numbers pick labels (several for a multi-select); anything else
/// is the typed answer.
pub fn parse_answer(q: &Question, line: &str) -> Answer {
    let options = q.options.as_deref().unwrap_or_default();
    let picked: Option<Vec<String>> = line
        .split(',')
        .map(|p| {
            let n: usize = p.trim().parse().ok()?;
            options.get(n.checked_sub(1)?).map(|o| o.label.clone())
        })
        .collect();
    match picked {
        Some(labels) if !labels.is_empty() && (q.multi_select || labels.len() == 1) => {
            if q.multi_select {
                Answer::Many(labels)
            } else {
                Answer::One(labels[0].clone())
            }
        }
        _ => Answer::One(line.trim().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::QuestionOption;

    fn q(multi: bool) -> Question {
        Question {
            id: "x".into(),
            text: "Pick".into(),
            header: None,
            options: Some(
                ["Red", "Blue", "Green"]
                    .map(|l| QuestionOption {
                        label: l.into(),
                        description: None,
                    })
                    .into(),
            ),
            multi_select: multi,
        }
    }

    #[test]
    fn decisions_parse_by_letter_or_word() {
        assert_eq!(parse_decision("a"), Some(Decision::Allow));
        assert_eq!(parse_decision(" S "), Some(Decision::AllowForSession));
        assert_eq!(parse_decision("deny"), Some(Decision::Deny));
        assert_eq!(parse_decision("b"), Some(Decision::Abort));
        assert_eq!(parse_decision("maybe"), None);
    }

    #[test]
    fn answers_pick_options_by_number_or_are_typed() {
        assert_eq!(parse_answer(&q(false), "2"), Answer::One("Blue".into()));
        assert_eq!(
            parse_answer(&q(true), "1, 3"),
            Answer::Many(vec!["Red".into(), "Green".into()])
        );
        // Several numbers for a single choice, or a number out of range, are typed text.
        assert_eq!(parse_answer(&q(false), "1,2"), Answer::One("1,2".into()));
        assert_eq!(parse_answer(&q(false), "9"), Answer::One("9".into()));
        assert_eq!(
            parse_answer(&q(false), "purple"),
            Answer::One("purple".into())
        );
    }
}
