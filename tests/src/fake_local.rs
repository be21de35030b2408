//! A stand-in for the local engine (mistral.rs arrives in its own issue): it
//! serves one model id and answers a fixed sentence a word at a time, with
//! usage, so that routing to "this machine" can be tested end to end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;
use llmaas_core::{
    BackendError, ChatBackend, ChatEvent, ChatRequest, EventStream, FinishReason, ModelId,
    TokenUsage,
};

/// The model id the fake serves.
pub const FAKE_LOCAL_MODEL: &str = "smollm2-135m-instruct";

/// The words of every answer.
pub const FAKE_LOCAL_WORDS: [&str; 5] = ["one ", "two ", "three ", "four ", "five"];

/// A fake local chat engine.
#[derive(Debug, Default)]
pub struct FakeLocal {
    cut_after: Option<usize>,
    delay: Duration,
    calls: AtomicUsize,
}

impl FakeLocal {
    /// Answers at once, every word.
    pub fn new() -> FakeLocal {
        FakeLocal::default()
    }

    /// Waits `delay` before each event.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> FakeLocal {
        self.delay = delay;
        self
    }

    /// Fails with a cut stream after `words` words.
    #[must_use]
    pub fn cut_after(mut self, words: usize) -> FakeLocal {
        self.cut_after = Some(words);
        self
    }

    /// How many requests it received.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl ChatBackend for FakeLocal {
    fn serves(&self, model: &ModelId) -> bool {
        model.as_str() == FAKE_LOCAL_MODEL
    }

    fn chat(&self, request: ChatRequest) -> EventStream {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.serves(&request.model) {
            let e = BackendError::ModelNotFound(request.model.to_string());
            return Box::pin(futures_util::stream::once(async move { Err(e) }));
        }
        let mut events: Vec<Result<ChatEvent, BackendError>> = Vec::new();
        for (i, w) in FAKE_LOCAL_WORDS.iter().enumerate() {
            if self.cut_after == Some(i) {
                events.push(Err(BackendError::StreamCut("the engine stopped".into())));
                break;
            }
            events.push(Ok(ChatEvent::Text {
                text: (*w).to_owned(),
            }));
        }
        if self.cut_after.is_none() {
            let usage = TokenUsage {
                prompt_tokens: request.estimate_input_tokens(),
                completion_tokens: FAKE_LOCAL_WORDS.len() as u64,
                reasoning_tokens: None,
            };
            events.push(Ok(ChatEvent::Usage { usage }));
            events.push(Ok(ChatEvent::Finished {
                reason: FinishReason::Stop,
            }));
        }
        let delay = self.delay;
        Box::pin(
            futures_util::stream::iter(events).then(move |e| async move {
                tokio::time::sleep(delay).await;
                e
            }),
        )
    }
}
