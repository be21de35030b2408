//! Long work (an answer, a transcription, an OCR run) is a job: the command
//! that starts it returns its id at once, its events go through the call's
//! channel, and `cancel_job(id)` stops it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

/// The running jobs' cancellation tokens, by id.
#[derive(Debug, Default)]
pub struct Jobs {
    running: Mutex<HashMap<String, CancellationToken>>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new job; returns its id and token.
    pub fn start(&self) -> (String, CancellationToken) {
        let id = uuid::Uuid::now_v7().to_string();
        let token = CancellationToken::new();
        self.lock().insert(id.clone(), token.clone());
        (id, token)
    }

    /// Registers a job under an id chosen elsewhere (a chat's request id).
    pub fn insert(&self, id: &str, token: CancellationToken) {
        self.lock().insert(id.to_owned(), token);
    }

    pub fn finish(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Cancels a job; false when it is unknown or already over.
    pub fn cancel(&self, id: &str) -> bool {
        match self.lock().remove(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancels everything (the window is closing).
    pub fn cancel_all(&self) {
        for (_, token) in self.lock().drain() {
            token.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_reaches_the_token_once() {
        let jobs = Jobs::default();
        let (id, token) = jobs.start();
        assert!(jobs.cancel(&id));
        assert!(token.is_cancelled());
        assert!(!jobs.cancel(&id), "a job is cancelled once");
    }

    #[test]
    fn a_finished_job_cannot_be_cancelled() {
        let jobs = Jobs::default();
        let (id, token) = jobs.start();
        jobs.finish(&id);
        assert!(!jobs.cancel(&id));
        assert!(!token.is_cancelled());
    }
}
