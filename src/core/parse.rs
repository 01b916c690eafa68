//! Typed parsing whose errors name the offending path (`task.permissions.sandbox`), so a host
//! learns which field was wrong, whichever front end it used.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::Refusal;

/// Parses `input` (a `Value`, `&Value` or any other deserializer) as `T`; errors name the path
/// under `prefix`.
pub fn parse_at<'de, T, D>(prefix: &str, input: D) -> Result<T, Refusal>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de, Error = serde_json::Error>,
{
    serde_path_to_error::deserialize(input).map_err(|e| path_error(prefix, e))
}

/// Why [`parse_str_at`] failed.
pub enum StrError {
    /// The text is not JSON.
    Syntax(serde_json::Error),
    /// The JSON does not fit: the refusal names the path, as [`parse_at`]'s do.
    Data(Refusal),
}

/// [`parse_at`] straight from JSON text, without building a `Value` first.
///
/// Input that fits is parsed once, untracked; only input that does not is parsed again with the
/// path tracker to name the field. Tracking every value cost a third of the parse of a large
/// `run` request (a 100,000-step fixture script), and almost every request fits.
pub fn parse_str_at<T: DeserializeOwned>(prefix: &str, text: &str) -> Result<T, StrError> {
    let mut de = serde_json::Deserializer::from_str(text);
    match T::deserialize(&mut de).and_then(|value| de.end().map(|()| value)) {
        Ok(value) => Ok(value),
        Err(e) if e.is_syntax() || e.is_eof() => Err(StrError::Syntax(e)),
        Err(_) => Err(parse_str_tracked::<T>(prefix, text)),
    }
}

/// Why `text` does not fit `T`, with the path of the offending field.
fn parse_str_tracked<T: DeserializeOwned>(prefix: &str, text: &str) -> StrError {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) if e.inner().is_syntax() || e.inner().is_eof() => StrError::Syntax(e.into_inner()),
        Err(e) => StrError::Data(path_error(prefix, e)),
        // Not reached: the same text failed untracked. Should a deserializer ever disagree with
        // itself, the refusal still names the place it was given.
        Ok(_) => StrError::Data(Refusal::invalid(prefix, "the value does not fit")),
    }
}

fn path_error(prefix: &str, e: serde_path_to_error::Error<serde_json::Error>) -> Refusal {
    let reason = without_position(e.inner());
    let mut path = e.path().to_string();
    if path == "." {
        path.clear();
    }
    let field = match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path,
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}.{path}"),
    };
    Refusal::invalid(field, reason)
}

/// The error's message without serde_json's " at line L column C": the path names the place, and
/// the position would count from the start of the params, not of the host's line.
pub fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if e.line() == 0 {
        return text;
    }
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix)
        .map(str::to_owned)
        .unwrap_or(text)
}
