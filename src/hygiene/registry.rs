//! The process's known secrets and the one matcher built from them.
//!
//! Two kinds: the sidecar's own environment (for the life of the process), and secrets learned
//! from host input, each held by a [`SecretLease`] that the request or task keeps while it
//! lives (counted: the same value learned by two live tasks stays until both end). The
//! environment's part of the matcher is built once; the learned part is rebuilt only when the
//! learned set changes; readers take it lock-free: each thread keeps the last
//! matcher it saw and the generation it had, and only a new generation (one atomic load per call
//! says so) makes it take the lock once to fetch the new one.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use super::names::{is_secret_name, MIN_SECRET_LEN};
use super::redactor::{Literals, Redactor};

struct State {
    /// Secrets learned from host input, with how many live leases hold each.
    leased: Mutex<Leased>,
    current: RwLock<Arc<Redactor>>,
    generation: AtomicU64,
}

struct Leased {
    /// The environment's secrets (never leased: learned again, they add nothing).
    env: std::collections::HashSet<String>,
    env_literals: Option<Arc<Literals>>,
    counts: HashMap<String, usize>,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let env: std::collections::HashSet<String> = std::env::vars()
            .filter(|(k, _)| is_secret_name(k))
            .map(|(_, v)| v)
            .collect();
        let env_literals = Literals::new(env.iter().cloned()).map(Arc::new);
        State {
            current: RwLock::new(Arc::new(Redactor::from_sets(
                env_literals.iter().cloned().collect(),
            ))),
            leased: Mutex::new(Leased {
                env,
                env_literals,
                counts: HashMap::new(),
            }),
            generation: AtomicU64::new(0),
        }
    })
}

/// The matcher for every secret known now.
pub fn current() -> Arc<Redactor> {
    thread_local! {
        static SEEN: RefCell<Option<(u64, Arc<Redactor>)>> = const { RefCell::new(None) };
    }
    let state = state();
    let generation = state.generation.load(Ordering::Acquire);
    SEEN.with_borrow_mut(|seen| match seen {
        Some((g, r)) if *g == generation => r.clone(),
        _ => {
            let r = state
                .current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            *seen = Some((generation, r.clone()));
            r
        }
    })
}

/// Secrets learned from one request or task: redacted from everything while the lease lives.
#[must_use = "the secrets are forgotten when the lease is dropped"]
#[derive(Default)]
pub struct SecretLease {
    values: Vec<String>,
}

impl SecretLease {
    /// One lease for the secrets of both.
    pub fn and(mut self, mut other: SecretLease) -> SecretLease {
        self.values.append(&mut other.values);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Starts redacting `values` (those shorter than [`MIN_SECRET_LEN`] are ignored) until the
/// returned lease is dropped.
pub fn lease(values: Vec<String>) -> SecretLease {
    let mut values: Vec<String> = values
        .into_iter()
        .filter(|v| v.len() >= MIN_SECRET_LEN)
        .collect();
    if values.is_empty() {
        return SecretLease::default();
    }
    let state = state();
    let mut leased = state.leased.lock().unwrap_or_else(|e| e.into_inner());
    values.retain(|v| !leased.env.contains(v));
    values.sort_unstable();
    values.dedup();
    let mut changed = false;
    for v in &values {
        let count = leased.counts.entry(v.clone()).or_insert(0);
        changed |= *count == 0;
        *count += 1;
    }
    if changed {
        rebuild(state, &leased);
    }
    SecretLease { values }
}

impl Drop for SecretLease {
    fn drop(&mut self) {
        if self.values.is_empty() {
            return;
        }
        let state = state();
        let mut leased = state.leased.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = false;
        for v in self.values.drain(..) {
            if let Some(count) = leased.counts.get_mut(&v) {
                *count -= 1;
                if *count == 0 {
                    leased.counts.remove(&v);
                    changed = true;
                }
            }
        }
        if changed {
            rebuild(state, &leased);
        }
    }
}

/// A new matcher for the set as it is now (the environment's part kept as it is); called with
/// the set locked, so that matchers are published in the order of the changes.
fn rebuild(state: &State, leased: &Leased) {
    let learned = Literals::new(leased.counts.keys().cloned()).map(Arc::new);
    let sets = leased.env_literals.iter().cloned().chain(learned).collect();
    let redactor = Arc::new(Redactor::from_sets(sets));
    *state.current.write().unwrap_or_else(|e| e.into_inner()) = redactor;
    state.generation.fetch_add(1, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leased_secret_is_redacted_until_its_last_lease_ends() {
        let secret = "leased-secret-value-7f3a9c".to_string();
        assert_eq!(current().redact(&secret), secret);
        let first = lease(vec![secret.clone(), "short".into()]);
        let second = lease(vec![secret.clone()]);
        assert_eq!(current().redact(&secret), "[redacted]");
        drop(first);
        assert_eq!(current().redact(&secret), "[redacted]");
        drop(second);
        assert_eq!(current().redact(&secret), secret);
    }
}
