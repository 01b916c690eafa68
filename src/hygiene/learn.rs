//! Learning secrets from host input, at each front end's intake, before anything logs it: in env
//! and header maps (`env`, `headers`, `environment`), the values of secret-looking names; anywhere,
//! the values of fields that name a credential outright (`apiKey`, `token`, `password`,
//! `authorization`, …). Option names that merely mention a key (`envKey: "OPENAI_API_KEY"`) are
//! not secrets. What is learned lives as long as the returned lease (the request, the task).

use serde_json::{Map, Value};

use super::names::{is_credential_field, is_env_map, is_secret_name};
use super::registry::{lease, SecretLease};

/// The secrets in `value`, redacted while the lease lives.
pub fn learn_secrets(value: &Value) -> SecretLease {
    let mut found = vec![];
    collect_secrets(value, false, &mut found);
    lease(found)
}

/// [`learn_secrets`] over the members of an object (an MCP tool call's arguments).
pub fn learn_secrets_in_map(map: &Map<String, Value>) -> SecretLease {
    let mut found = vec![];
    collect_in_map(map, &mut found);
    lease(found)
}

/// [`learn_secrets`] over JSON text, without building a `Value` tree for it (a request can hold a
/// fixture script of megabytes). Text that is not JSON teaches nothing.
pub fn learn_secrets_in_json(text: &str) -> SecretLease {
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
    lease(found)
}

fn collect_secrets(value: &Value, in_env_map: bool, found: &mut Vec<String>) {
    match value {
        Value::Object(map) if in_env_map => {
            for (k, v) in map {
                match v {
                    Value::String(s) if is_secret_name(k) || is_credential_field(k) => {
                        found.push(s.clone())
                    }
                    other => collect_secrets(other, is_env_map(k), found),
                }
            }
        }
        Value::Object(map) => collect_in_map(map, found),
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, false, found)),
        _ => {}
    }
}

fn collect_in_map(map: &Map<String, Value>, found: &mut Vec<String>) {
    for (k, v) in map {
        match v {
            Value::String(s) if is_credential_field(k) => found.push(s.clone()),
            other => collect_secrets(other, is_env_map(k), found),
        }
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
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            map.next_value_seed(SecretScan {
                env_map: is_env_map(&key),
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

/// A member name, borrowed from the JSON text when it has no escapes (serde's own `Cow<str>`
/// always copies: one allocation per key of a request that can hold hundreds of thousands).
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(s)))
            }

            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
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
            "env": {"OPENAI_API_KEY": "sk-env-value-1", "PATH": "/usr/bin", "N": 3,
                    "GIT_AUTHOR_NAME": "Jane Doe Example"},
            "provider": {"envKey": "OPENAI_API_KEY", "apiKey": "key-value-2"},
            "script": {"steps": [{"tool": {"input": {"password": "pw-value-3", "x": [1, "y"]}}}]},
            "headers": {"Authorization": "Bearer header-value-4", "X-Trace": "t"},
            "with\\u0065scape": {"token": "tok-value-5"}
        });
        let mut expected = vec![];
        collect_secrets(&v, false, &mut expected);
        let mut sorted = expected.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "Bearer header-value-4",
                "key-value-2",
                "pw-value-3",
                "sk-env-value-1",
                "tok-value-5"
            ]
        );
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
}
