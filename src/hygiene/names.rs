//! Which names mark a secret: environment variable names, and fields of host input.

/// Values shorter than this are never learned as secrets: redacting "1", "true" or a user name
/// everywhere would mangle output and protect nothing (a credential this short is guessable
/// anyway). Eight characters is also the shortest value whose encoded forms (base64 at every
/// alignment) are still long enough not to match ordinary text by chance.
pub const MIN_SECRET_LEN: usize = 8;

/// Words in a variable name that mark its value as a secret.
const SECRET_WORDS: [&str; 8] = [
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "AUTH",
    "COOKIE",
];

/// Words that contain a secret word but name no secret: removed from a name before it is judged.
/// `GIT_AUTHOR_NAME`, `GIT_COMMITTER_EMAIL` hold a name and an address, `SSH_AUTH_SOCK` and
/// `XAUTHORITY` paths, `KEYTIMEOUT` a number, `GNOME_KEYRING_CONTROL` a path, `TOKENIZERS_*`
/// a library switch. Redacting them mangles ordinary output ("Author: Jane Doe").
const NOT_SECRET_WORDS: [&str; 8] = [
    "AUTHORITY",
    "AUTHOR",
    "AUTH_SOCK",
    "KEYTIMEOUT",
    "KEYBOARD",
    "KEYMAP",
    "KEYRING",
    "TOKENIZERS",
];

/// Whole names that are not secrets although a secret word is left in them after
/// [`NOT_SECRET_WORDS`] are removed.
const NOT_SECRET_NAMES: [&str; 1] = ["XAUTHLOCALHOSTNAME"];

/// Whether an environment variable (or an `env`/`headers` entry) with this name holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let mut upper = name.to_ascii_uppercase();
    if NOT_SECRET_NAMES.contains(&upper.as_str()) {
        return false;
    }
    for word in NOT_SECRET_WORDS {
        if upper.contains(word) {
            upper = upper.replace(word, "_");
        }
    }
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// Whether a field of host input names a credential outright (`apiKey`, `password`, …): its
/// string value is a secret wherever it appears. Names that merely mention a key
/// (`envKey: "OPENAI_API_KEY"`) are not.
pub fn is_credential_field(name: &str) -> bool {
    // Compared without allocating: every key of host input passes here (a fixture script can
    // hold hundreds of thousands).
    const FIELDS: [&str; 9] = [
        "apikey",
        "token",
        "accesstoken",
        "authtoken",
        "password",
        "secret",
        "clientsecret",
        "authorization",
        "bearertoken",
    ];
    let letters = || {
        name.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| b.to_ascii_lowercase())
    };
    FIELDS.iter().any(|f| letters().eq(f.bytes()))
}

/// Whether a member named `name` holds an env or header map (whose secret-named entries are
/// secrets).
pub fn is_env_map(name: &str) -> bool {
    ["env", "headers", "environment"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_the_names_that_only_look_secret() {
        for secret in [
            "OPENAI_API_KEY",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "DB_PASSWORD",
            "MY_AUTH",
            "AUTHOR_TOKEN",
            "session_cookie",
        ] {
            assert!(is_secret_name(secret), "{secret}");
        }
        for plain in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_AUTHOR_DATE",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "SSH_AUTH_SOCK",
            "XAUTHORITY",
            "KEYTIMEOUT",
            "GNOME_KEYRING_CONTROL",
            "TOKENIZERS_PARALLELISM",
            "PATH",
            "HOME",
        ] {
            assert!(!is_secret_name(plain), "{plain}");
        }
    }
}
