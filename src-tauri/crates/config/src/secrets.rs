//! The API key, kept only in the OS keychain.
//!
//! A key enters through [`SecretStore::set`] and leaves only as a [`Secret`]
//! whose `Debug` prints `Secret(***)` and which has no `Display`, so a stray
//! `{:?}` in a log line or an error cannot leak it. Errors from the keychain
//! are mapped to [`SecretError`] without their payloads: keyring's own
//! `BadEncoding` and `BadDataFormat` variants carry the stored bytes.

use std::collections::HashMap;
use std::fmt;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The keychain service name under which every secret of the app is stored.
pub const SERVICE: &str = "llmaas-desktop";
/// Names another keychain service instead of [`SERVICE`]: separate profiles,
/// and tests that must not touch the user's real key.
pub const SERVICE_ENV: &str = "LLMAAS_KEYCHAIN_SERVICE";
/// The entry name of the provider's API key.
pub const API_KEY: &str = "api-key";

pub use llmaas_core::Secret;

/// The keychain failed; never carries the secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// No keychain service is reachable (on Linux: no Secret Service on the session bus).
    #[error("the OS keychain is not available: {0}")]
    Unavailable(String),
    /// The keychain is there but locked or refused access.
    #[error("the OS keychain refused access (is it unlocked?): {0}")]
    Locked(String),
    /// The stored value is not text.
    #[error("the stored secret `{0}` is not valid text; set it again")]
    Corrupt(&'static str),
    /// The value given is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The keychain took longer than the deadline to answer: its service
    /// hangs, or a password prompt is waiting. The call may still finish.
    #[error(
        "the OS keychain did not answer within {} s (is a password prompt waiting?)",
        .0.as_secs_f32()
    )]
    NotAnswering(std::time::Duration),
    /// Any other keychain failure.
    #[error("keychain error: {0}")]
    Other(String),
}

/// Where secrets are kept: the OS keychain, or memory in tests.
pub trait SecretStore: Send + Sync + fmt::Debug {
    fn get(&self, name: &'static str) -> Result<Option<Secret>, SecretError>;
    fn set(&self, name: &'static str, value: &Secret) -> Result<(), SecretError>;
    /// Returns whether there was something to delete.
    fn delete(&self, name: &'static str) -> Result<bool, SecretError>;
}

/// Checks that a provider API key looks like one before it is stored.
pub fn validate_api_key(key: &str) -> Result<Secret, SecretError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(SecretError::Invalid("the API key is empty".into()));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(SecretError::Invalid(
            "an API key is one word with no spaces".into(),
        ));
    }
    Ok(Secret::new(key))
}

/// The OS keychain through keyring-core (Secret Service on Linux).
pub struct KeychainStore {
    store: Arc<keyring_core::CredentialStore>,
    service: String,
}

impl fmt::Debug for KeychainStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeychainStore")
            .field("vendor", &self.store.vendor())
            .field("service", &self.service)
            .finish()
    }
}

impl KeychainStore {
    /// Connects to the platform keychain, under [`SERVICE`] or the service
    /// named by `LLMAAS_KEYCHAIN_SERVICE`.
    #[cfg(target_os = "linux")]
    pub fn open() -> Result<KeychainStore, SecretError> {
        let store = zbus_secret_service_keyring_store::Store::new().map_err(map_err)?;
        let service = std::env::var(SERVICE_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| SERVICE.to_owned());
        Ok(KeychainStore { store, service })
    }

    /// The keychain service the entries live under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Connects to the platform keychain.
    #[cfg(not(target_os = "linux"))]
    pub fn open() -> Result<KeychainStore, SecretError> {
        Err(SecretError::Unavailable(
            "this build has no keychain store for this platform yet; use LLMAAS_API_KEY".into(),
        ))
    }

    fn entry(&self, name: &str) -> Result<keyring_core::Entry, SecretError> {
        keyring_core::Entry::new_in_store(&self.store, &self.service, name).map_err(map_err)
    }
}

impl SecretStore for KeychainStore {
    fn get(&self, name: &'static str) -> Result<Option<Secret>, SecretError> {
        match self.entry(name)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(keyring_core::Error::BadEncoding(_) | keyring_core::Error::BadDataFormat(..)) => {
                Err(SecretError::Corrupt(name))
            }
            Err(e) => Err(map_err(e)),
        }
    }

    fn set(&self, name: &'static str, value: &Secret) -> Result<(), SecretError> {
        self.entry(name)?
            .set_password(value.expose())
            .map_err(map_err)
    }

    fn delete(&self, name: &'static str) -> Result<bool, SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(e)),
        }
    }
}

/// Maps a keychain error to ours, keeping only messages that cannot hold the secret.
fn map_err(e: keyring_core::Error) -> SecretError {
    use keyring_core::Error as K;
    match e {
        K::NoStorageAccess(inner) => SecretError::Locked(inner.to_string()),
        K::PlatformFailure(inner) => {
            let text = inner.to_string();
            // zbus says "NotFound"/"ServiceUnknown" when no Secret Service runs.
            if text.contains("NotFound")
                || text.contains("ServiceUnknown")
                || text.contains("DBUS_SESSION_BUS_ADDRESS")
                || text.contains("No such file")
            {
                SecretError::Unavailable(text)
            } else {
                SecretError::Other(text)
            }
        }
        K::BadEncoding(_) | K::BadDataFormat(..) => SecretError::Corrupt(API_KEY),
        K::NoDefaultStore => SecretError::Unavailable("no keychain store configured".into()),
        other => SecretError::Other(other.to_string()),
    }
}

/// A store whose every call answers within a deadline, whatever the store
/// under it does.
///
/// The keychain is a D-Bus service: a locked keyring waits for a password
/// prompt, a wedged daemon never answers, and keyring's calls block with no
/// timeout. A window must not wait on either. Calls run one at a time on a
/// thread of their own; the caller waits `read` for a `get` and `write` for a
/// `set` or `delete` (a person may be typing a password), then gets
/// [`SecretError::NotAnswering`]. While one call has hung past `read`, the
/// next calls fail at once instead of queueing behind it, and at most
/// [`TimedStore::QUEUE`] calls ever wait: memory stays bounded however often
/// the window asks.
pub struct TimedStore {
    jobs: SyncSender<Job>,
    /// When the call running now started, if one is.
    busy_since: Arc<Mutex<Option<Instant>>>,
    read: Duration,
    write: Duration,
    inner: String,
}

type Job = Box<dyn FnOnce(&dyn SecretStore) + Send>;

impl fmt::Debug for TimedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimedStore")
            .field("inner", &self.inner)
            .field("read", &self.read)
            .field("write", &self.write)
            .finish_non_exhaustive()
    }
}

impl TimedStore {
    /// Calls waiting for their turn, at most.
    pub const QUEUE: usize = 4;

    /// Serves `inner` from a thread of its own.
    ///
    /// # Errors
    /// When the OS refuses a new thread.
    pub fn new(
        inner: Arc<dyn SecretStore>,
        read: Duration,
        write: Duration,
    ) -> Result<TimedStore, SecretError> {
        let (jobs, queue) = mpsc::sync_channel::<Job>(Self::QUEUE);
        let busy_since = Arc::new(Mutex::new(None));
        let busy = Arc::clone(&busy_since);
        let name = format!("{inner:?}");
        std::thread::Builder::new()
            .name("keychain".into())
            .spawn(move || {
                for job in queue {
                    *busy.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
                    job(inner.as_ref());
                    *busy.lock().unwrap_or_else(PoisonError::into_inner) = None;
                }
            })
            .map_err(|e| SecretError::Other(format!("no thread for the keychain: {e}")))?;
        Ok(TimedStore {
            jobs,
            busy_since,
            read,
            write,
            inner: name,
        })
    }

    fn call<T: Send + 'static>(
        &self,
        wait: Duration,
        f: impl FnOnce(&dyn SecretStore) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, SecretError> {
        let hung = self
            .busy_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|t| t.elapsed() >= self.read);
        if hung {
            return Err(SecretError::NotAnswering(self.read));
        }
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |store| {
            // The caller may have stopped waiting: nobody to tell then.
            let _ = reply.send(f(store));
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(SecretError::NotAnswering(self.read)),
            Err(TrySendError::Disconnected(_)) => {
                return Err(SecretError::Other("the keychain thread stopped".into()));
            }
        }
        match answer.recv_timeout(wait) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => Err(SecretError::NotAnswering(wait)),
            Err(RecvTimeoutError::Disconnected) => {
                Err(SecretError::Other("the keychain call failed".into()))
            }
        }
    }
}

impl SecretStore for TimedStore {
    fn get(&self, name: &'static str) -> Result<Option<Secret>, SecretError> {
        self.call(self.read, move |s| s.get(name))
    }

    fn set(&self, name: &'static str, value: &Secret) -> Result<(), SecretError> {
        let value = value.clone();
        self.call(self.write, move |s| s.set(name, &value))
    }

    fn delete(&self, name: &'static str) -> Result<bool, SecretError> {
        self.call(self.write, move |s| s.delete(name))
    }
}

/// Secrets in memory only: for tests and for `--no-keychain` runs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: Mutex<HashMap<&'static str, Secret>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, name: &'static str) -> Result<Option<Secret>, SecretError> {
        Ok(self
            .values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned())
    }

    fn set(&self, name: &'static str, value: &Secret) -> Result<(), SecretError> {
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, value.clone());
        Ok(())
    }

    fn delete(&self, name: &'static str) -> Result<bool, SecretError> {
        Ok(self
            .values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name)
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_before_storing() {
        assert!(validate_api_key("   ").is_err());
        assert!(validate_api_key("sk abc").is_err());
        assert_eq!(validate_api_key(" sk-abc\n").unwrap().expose(), "sk-abc");
    }

    #[test]
    fn memory_store_sets_gets_and_deletes() {
        let store = MemoryStore::default();
        assert_eq!(store.get(API_KEY).unwrap(), None);
        store.set(API_KEY, &Secret::new("sk-1")).unwrap();
        assert_eq!(store.get(API_KEY).unwrap().unwrap().expose(), "sk-1");
        assert!(store.delete(API_KEY).unwrap());
        assert!(!store.delete(API_KEY).unwrap());
    }

    /// A store that blocks every call until `release` is dropped or sent to.
    #[derive(Debug)]
    struct Hanging {
        gate: Mutex<mpsc::Receiver<()>>,
        inner: MemoryStore,
    }

    impl SecretStore for Hanging {
        fn get(&self, name: &'static str) -> Result<Option<Secret>, SecretError> {
            let _ = self.gate.lock().unwrap().recv();
            self.inner.get(name)
        }
        fn set(&self, name: &'static str, value: &Secret) -> Result<(), SecretError> {
            let _ = self.gate.lock().unwrap().recv();
            self.inner.set(name, value)
        }
        fn delete(&self, name: &'static str) -> Result<bool, SecretError> {
            let _ = self.gate.lock().unwrap().recv();
            self.inner.delete(name)
        }
    }

    #[test]
    fn a_hung_keychain_is_reported_and_later_calls_do_not_queue_behind_it() {
        let (release, gate) = mpsc::channel();
        let inner = MemoryStore::default();
        inner.set(API_KEY, &Secret::new("sk-1")).unwrap();
        let hanging = Arc::new(Hanging {
            gate: Mutex::new(gate),
            inner,
        });
        let read = Duration::from_millis(100);
        let store = TimedStore::new(hanging, read, Duration::from_millis(200)).unwrap();
        assert!(matches!(
            store.get(API_KEY),
            Err(SecretError::NotAnswering(d)) if d == read
        ));
        // The first call still hangs: the next ones say so at once, many
        // times over. (Its clock started a hair after the caller's: wait
        // that hair, so that it has hung for `read` by its own clock too.)
        std::thread::sleep(read / 5);
        let started = Instant::now();
        for _ in 0..(TimedStore::QUEUE * 4) {
            assert!(matches!(
                store.get(API_KEY),
                Err(SecretError::NotAnswering(_))
            ));
        }
        assert!(started.elapsed() < read, "{:?}", started.elapsed());
        // It answers again: so does the store.
        drop(release);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match store.get(API_KEY) {
                Ok(key) => {
                    assert_eq!(key.unwrap().expose(), "sk-1");
                    break;
                }
                Err(SecretError::NotAnswering(_)) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("{e}"),
            }
        }
        store.set(API_KEY, &Secret::new("sk-2")).unwrap();
        assert_eq!(store.get(API_KEY).unwrap().unwrap().expose(), "sk-2");
        assert!(store.delete(API_KEY).unwrap());
    }

    #[test]
    fn a_timed_store_passes_answers_and_errors_through() {
        let store = TimedStore::new(
            Arc::new(MemoryStore::default()),
            Duration::from_secs(5),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(store.get(API_KEY).unwrap(), None);
        store.set(API_KEY, &Secret::new("sk-1")).unwrap();
        assert_eq!(store.get(API_KEY).unwrap().unwrap().expose(), "sk-1");
        assert!(!format!("{store:?}").contains("sk-1"));
    }

    /// The real Secret Service. CI runs it inside `dbus-run-session` with an
    /// unlocked gnome-keyring and sets `LLMAAS_REQUIRE_KEYCHAIN=1`, which turns
    /// an unreachable keychain into a failure instead of a skip.
    #[test]
    fn real_keychain_round_trip() {
        // A name of its own so that a developer's real key is never touched.
        const NAME: &str = "test-round-trip";
        let required = std::env::var_os("LLMAAS_REQUIRE_KEYCHAIN").is_some();
        let store = match KeychainStore::open() {
            Ok(store) => store,
            Err(e) if !required => {
                eprintln!("skipping: no keychain here ({e}); CI sets LLMAAS_REQUIRE_KEYCHAIN=1");
                return;
            }
            Err(e) => panic!("keychain required but unavailable: {e}"),
        };
        let value = Secret::new(format!("sk-test-{}", std::process::id()));
        match store.set(NAME, &value) {
            Ok(()) => {}
            Err(e) if !required => {
                eprintln!("skipping: keychain refused ({e})");
                return;
            }
            Err(e) => panic!("keychain required but refused: {e}"),
        }
        assert_eq!(store.get(NAME).unwrap().as_ref(), Some(&value));
        store.set(NAME, &Secret::new("sk-second")).unwrap();
        assert_eq!(store.get(NAME).unwrap().unwrap().expose(), "sk-second");
        assert!(store.delete(NAME).unwrap());
        assert_eq!(store.get(NAME).unwrap(), None);
        assert!(!store.delete(NAME).unwrap());
    }
}
