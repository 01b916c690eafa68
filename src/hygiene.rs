//! Payload hygiene: secret redaction and truncation, in one place.
//!
//! Every event, result, error and log line passes through here before it leaves the process.
//! Redaction runs before truncation, so a secret cut in half by truncation is never half-shown.
//!
//! What counts as a secret:
//! - the value of any environment variable whose name looks secret-bearing (`*KEY*`, `*TOKEN*`,
//!   `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`, `*AUTH*`, `*COOKIE*`), from the sidecar's own
//!   environment and from env maps and headers in a task (MCP servers, runtime options);
//! - anything shaped like a well-known credential (Anthropic/OpenAI `sk-…` keys, Google `AIza…`
//!   keys, GitHub and Slack tokens, AWS access key ids, JWTs, `Bearer …` values).

use std::borrow::Cow;
use std::sync::{OnceLock, RwLock};

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde_json::{Map, Value};

pub const REDACTED: &str = "[redacted]";

/// Values shorter than this are not treated as secrets: redacting "1" or "true" everywhere
/// would mangle output and protect nothing.
const MIN_SECRET_LEN: usize = 8;

pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "AUTH",
        "COOKIE",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

/// Every credential pattern below starts with one of these literals. A string with none of them
/// (ASCII case ignored: a superset, so never a miss) cannot match, and skips the regex: most
/// event text is like that, and the regex costs a pool checkout per call from worker threads.
fn pattern_triggers() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([
                "sk-",
                "AIza",
                "ghp_",
                "gho_",
                "ghu_",
                "ghs_",
                "ghr_",
                "github_pat_",
                "xox",
                "AKIA",
                "eyJ",
                "bearer",
            ])
            .expect("literals compile")
    })
}

fn patterns() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"sk-ant-[A-Za-z0-9_\-]{8,}",
            r"|sk-(?:proj-|live-|test-)?[A-Za-z0-9_\-]{20,}",
            r"|AIza[0-9A-Za-z_\-]{30,}",
            r"|gh[pousr]_[A-Za-z0-9]{20,}",
            r"|github_pat_[A-Za-z0-9_]{20,}",
            r"|xox[abprs]-[A-Za-z0-9\-]{10,}",
            r"|AKIA[0-9A-Z]{16}",
            r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
            r"|(?i:bearer)\s+[A-Za-z0-9._~+/\-]{12,}=*",
        ))
        .expect("credential patterns compile")
    })
}

/// Known secret values plus credential patterns.
#[derive(Default)]
pub struct Redactor {
    secrets: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut r = Redactor::default();
        r.extend(secrets);
        r
    }

    /// Secrets from an environment: values of variables with secret-looking names.
    pub fn secrets_of_env<'a>(
        vars: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> impl Iterator<Item = String> {
        vars.into_iter()
            .filter(|(k, _)| is_secret_name(k))
            .map(|(_, v)| v.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    pub fn extend(&mut self, secrets: impl IntoIterator<Item = String>) {
        let before = self.secrets.len();
        for s in secrets {
            if s.len() >= MIN_SECRET_LEN && !self.secrets.contains(&s) {
                self.secrets.push(s);
            }
        }
        if self.secrets.len() != before {
            // Longest first, so a secret that contains another is replaced whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            self.matcher = AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&self.secrets)
                .ok();
        }
    }

    pub fn redact(&self, s: &str) -> String {
        self.redact_cow(s).into_owned()
    }

    /// [`Redactor::redact`], borrowing `s` back when nothing in it is secret (the common case:
    /// no allocation).
    pub fn redact_cow<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let literal: Cow<'a, str> = match &self.matcher {
            Some(m) if m.is_match(s) => {
                Cow::Owned(m.replace_all(s, &vec![REDACTED; self.secrets.len()]))
            }
            _ => Cow::Borrowed(s),
        };
        if !pattern_triggers().is_match(literal.as_ref()) {
            return literal;
        }
        match patterns().replace_all(&literal, REDACTED) {
            Cow::Borrowed(_) => literal,
            Cow::Owned(o) => Cow::Owned(o),
        }
    }
}

/// The process-wide redactor: the sidecar's own environment plus every task's secrets.
/// Log lines are redacted with it.
pub fn global() -> &'static RwLock<Redactor> {
    static GLOBAL: OnceLock<RwLock<Redactor>> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let env: Vec<(String, String)> = std::env::vars().collect();
        RwLock::new(Redactor::new(Redactor::secrets_of_env(
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )))
    })
}

pub fn add_global_secrets(secrets: impl IntoIterator<Item = String>) {
    global()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .extend(secrets);
}

/// Learns secrets from host input before anything logs it: in env and header maps (`env`,
/// `headers`), the values of secret-looking names; anywhere, the values of fields that name a
/// credential outright (`apiKey`, `token`, `password`, `authorization`, ...). Option names that
/// merely mention a key (`envKey: "OPENAI_API_KEY"`) are not secrets.
pub fn learn_secrets(value: &Value) {
    let mut found = vec![];
    collect_secrets(value, false, &mut found);
    if !found.is_empty() {
        add_global_secrets(found);
    }
}

/// [`learn_secrets`] over JSON text, without building a `Value` tree for it (a task's options can
/// hold a fixture script of megabytes). Text that is not JSON teaches nothing.
pub fn learn_secrets_in_json(text: &str) {
    let mut found = vec![];
    let scan = SecretScan {
        env_map: false,
        keep_string: false,
        found: &mut found,
    };
    let _ = serde::de::DeserializeSeed::deserialize(
        scan,
        &mut serde_json::Deserializer::from_str(text),
    );
    if !found.is_empty() {
        add_global_secrets(found);
    }
}

/// One JSON value visited by [`learn_secrets_in_json`], with the rules of `collect_secrets`:
/// `env_map` when it is the value of an `env`/`headers` member, `keep_string` when a string here
/// is a secret.
struct SecretScan<'a> {
    env_map: bool,
    keep_string: bool,
    found: &'a mut Vec<String>,
}

impl<'de> serde::de::DeserializeSeed<'de> for SecretScan<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for SecretScan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        if self.keep_string {
            self.found.push(s.to_string());
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            map.next_value_seed(SecretScan {
                env_map: matches!(
                    key.to_ascii_lowercase().as_str(),
                    "env" | "headers" | "environment"
                ),
                keep_string: (self.env_map && is_secret_name(&key)) || is_credential_field(&key),
                found: self.found,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(SecretScan {
                env_map: false,
                keep_string: false,
                found: self.found,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

fn is_credential_field(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        n.as_str(),
        "apikey"
            | "token"
            | "accesstoken"
            | "authtoken"
            | "password"
            | "secret"
            | "clientsecret"
            | "authorization"
            | "bearertoken"
    )
}

fn collect_secrets(value: &Value, in_env_map: bool, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s)
                        if (in_env_map && is_secret_name(k)) || is_credential_field(k) =>
                    {
                        found.push(s.clone())
                    }
                    other => {
                        let env_map = matches!(
                            k.to_ascii_lowercase().as_str(),
                            "env" | "headers" | "environment"
                        );
                        collect_secrets(other, env_map, found)
                    }
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, false, found)),
        _ => {}
    }
}

pub fn redact(s: &str) -> String {
    global().read().unwrap_or_else(|e| e.into_inner()).redact(s)
}

/// The marker beside a truncated object field `f`: `fTruncated: {"bytes": N, "truncated": true}`
/// (N = the original length in bytes). Fields in the order a `Value` map writes them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Truncated {
    bytes: usize,
    truncated: bool,
}

impl Truncated {
    fn new(bytes: usize) -> Self {
        Truncated {
            bytes,
            truncated: true,
        }
    }
}

/// Redaction plus truncation, configured per task.
#[derive(Clone, Copy)]
pub struct Hygiene {
    max_field_bytes: usize,
}

impl Hygiene {
    pub fn new(max_field_bytes: usize) -> Self {
        Hygiene { max_field_bytes }
    }

    /// Redacts every string in `value` and truncates strings longer than the limit.
    /// A truncated object field `f` gets a sibling `fTruncated: {"truncated": true, "bytes": N}`
    /// (N = the original length in bytes); a truncated string inside an array ends with
    /// `…[truncated, N bytes]`.
    pub fn clean(&self, value: &mut Value) {
        let redactor = global().read().unwrap_or_else(|e| e.into_inner());
        self.clean_with(&redactor, value);
    }

    /// Cleans the string of a `{"text": ...}` object: what [`clean`](Self::clean) does to that
    /// object's `text`, whose `textTruncated` marker it returns.
    pub fn clean_text(&self, text: &mut String) -> Option<Truncated> {
        let redactor = global().read().unwrap_or_else(|e| e.into_inner());
        self.clean_string(&redactor, text).map(Truncated::new)
    }

    fn clean_with(&self, r: &Redactor, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Some(n) = self.clean_string(r, s) {
                    s.push_str(&format!("…[truncated, {n} bytes]"));
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.clean_with(r, v)),
            Value::Object(map) => self.clean_object(r, map),
            _ => {}
        }
    }

    fn clean_object(&self, r: &Redactor, map: &mut Map<String, Value>) {
        let mut markers = vec![];
        for (k, v) in map.iter_mut() {
            if let Value::String(s) = v {
                if let Some(n) = self.clean_string(r, s) {
                    markers.push((format!("{k}Truncated"), n));
                }
            } else {
                self.clean_with(r, v);
            }
        }
        for (k, n) in markers {
            let marker = serde_json::to_value(Truncated::new(n)).expect("markers serialize");
            map.insert(k, marker);
        }
    }

    /// Redacts, then truncates, `s` in place; returns the redacted length if it was cut.
    /// Left untouched (no allocation) when there is nothing to do.
    fn clean_string(&self, r: &Redactor, s: &mut String) -> Option<usize> {
        if let Cow::Owned(red) = r.redact_cow(s) {
            *s = red;
        }
        if s.len() <= self.max_field_bytes {
            return None;
        }
        let (t, original) = truncate(std::mem::take(s), self.max_field_bytes);
        *s = t;
        original
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary; returns the original length if it cut.
fn truncate(mut s: String, max: usize) -> (String, Option<usize>) {
    if s.len() <= max {
        return (s, None);
    }
    let n = s.len();
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    (s, Some(n))
}

/// A `tracing` writer that redacts each formatted log line before it reaches stderr.
pub struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The text scan finds exactly what the `Value` walk finds, in the same order.
    #[test]
    fn secrets_in_json_text_are_those_of_the_value() {
        let v = json!({
            "env": {"OPENAI_API_KEY": "sk-env-value-1", "PATH": "/usr/bin", "N": 3},
            "provider": {"envKey": "OPENAI_API_KEY", "apiKey": "key-value-2"},
            "script": {"steps": [{"tool": {"input": {"password": "pw-value-3", "x": [1, "y"]}}}]},
            "headers": {"Authorization": "Bearer header-value-4", "X-Trace": "t"},
            "with\\u0065scape": {"token": "tok-value-5"}
        });
        let mut expected = vec![];
        collect_secrets(&v, false, &mut expected);
        assert_eq!(expected.len(), 5, "{expected:?}");
        let mut found = vec![];
        let scan = SecretScan {
            env_map: false,
            keep_string: false,
            found: &mut found,
        };
        serde::de::DeserializeSeed::deserialize(
            scan,
            &mut serde_json::Deserializer::from_str(&v.to_string()),
        )
        .unwrap();
        assert_eq!(found, expected);
    }

    #[test]
    fn known_values_and_patterns_are_redacted() {
        let r = Redactor::new(["supersecretvalue123".to_string(), "short".to_string()]);
        let out = r.redact("a supersecretvalue123 b sk-ant-api03-abcdefghijklmnop c short Bearer abcdefghijklmnopq");
        assert_eq!(out, "a [redacted] b [redacted] c short [redacted]");
    }

    #[test]
    fn every_credential_pattern_passes_the_literal_precheck() {
        let r = Redactor::default();
        let samples = [
            "sk-ant-api03-abcdefgh",
            "sk-proj-abcdefghijklmnopqrstuvwx",
            "AIzaabcdefghijklmnopqrstuvwxyz0123456789",
            "ghp_abcdefghijklmnopqrstuvwx",
            "gho_abcdefghijklmnopqrstuvwx",
            "ghs_abcdefghijklmnopqrstuvwx",
            "github_pat_abcdefghijklmnopqrstuvwx",
            "xoxb-1234567890-abcdef",
            "AKIAABCDEFGHIJKLMNOP",
            "eyJhbGciOiJIUzI1.eyJzdWIiOiIx.abcdefghijk",
            "BEARER abcdefghijklmnop",
            "bearer abcdefghijklmnop",
        ];
        for s in samples {
            assert_eq!(r.redact(&format!("x {s} y")), "x [redacted] y", "{s}");
        }
        // Nothing secret: the string comes back borrowed (no copy).
        assert!(matches!(
            r.redact_cow("token 12345 of the answer"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn long_fields_are_truncated_with_a_marker() {
        let h = Hygiene::new(64);
        let mut v = json!({ "output": "é".repeat(100), "list": ["x".repeat(100)] });
        h.clean(&mut v);
        assert!(v["output"].as_str().unwrap().len() <= 64);
        assert_eq!(
            v["outputTruncated"],
            json!({ "truncated": true, "bytes": 200 })
        );
        assert!(v["list"][0]
            .as_str()
            .unwrap()
            .ends_with("…[truncated, 100 bytes]"));
    }
}
