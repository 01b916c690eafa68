//! The command line's one error style: `error: <message>` and, when there is one, `fix: <remedy>`
//! on stderr; the exit code says what kind of failure it was. No backtrace, no Debug text.

use serde_json::Value;

use super::output;
use crate::core::Refusal;
use crate::protocol::RpcError;

/// Exit code of a usage error or a refused request (clap uses 2 for its own usage errors too).
pub const USAGE: i32 = 2;
/// Exit code of something that was tried and failed (a task that did not complete, a file that
/// could not be written).
pub const FAILED: i32 = 1;

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub remedy: Option<String>,
    pub code: i32,
}

impl CliError {
    /// The command line was used wrongly (a bad --task, a missing goal).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            remedy: None,
            code: USAGE,
        }
    }

    /// Something the command tried failed.
    pub fn failed(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            remedy: None,
            code: FAILED,
        }
    }

    pub fn with_remedy(mut self, remedy: impl Into<String>) -> Self {
        self.remedy = Some(remedy.into());
        self
    }

    /// Prints the error on stderr; returns the exit code.
    pub fn report(self) -> i32 {
        let mut text = format!("error: {}\n", output::escape_controls(&self.message));
        if let Some(remedy) = &self.remedy {
            text.push_str(&format!("fix: {}\n", output::escape_controls(remedy)));
        }
        output::eprint(&text);
        self.code
    }
}

impl From<&RpcError> for CliError {
    fn from(e: &RpcError) -> Self {
        CliError {
            message: e.message.clone(),
            remedy: e
                .data
                .get("remedy")
                .and_then(Value::as_str)
                .map(str::to_owned),
            code: USAGE,
        }
    }
}

impl From<Refusal> for CliError {
    /// A refusal reads as the protocol's error object does (its message, its remedy).
    fn from(r: Refusal) -> Self {
        CliError::from(&RpcError::from(r))
    }
}
