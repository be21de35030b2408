//! From SSE `data` payloads to [`ChatEvent`]s: the decoding of
//! `chat.completion.chunk`s, independent of any socket so it can be tested
//! (and fuzzed) on its own.

use std::collections::BTreeMap;

use llmaas_core::{BackendError, ChatEvent, FinishReason, ToolCall};

use crate::error::json_error;
use crate::think::{Piece, ThinkSplitter};
use crate::wire::{self, Chunk};

/// One item of the event stream.
pub type StreamItem = Result<ChatEvent, BackendError>;

/// Turns the `data` of each SSE event of a chat stream into events.
///
/// Text goes through a [`ThinkSplitter`], so inline `<think>` blocks come out
/// as [`ChatEvent::Reasoning`] like `reasoning_content` does. The finish
/// reason is held until `[DONE]` (or the end of the body), because the usage
/// chunk comes after the finish chunk and `Finished` must be the last event.
#[derive(Debug, Default)]
pub struct ChunkDecoder {
    think: ThinkSplitter,
    finish: Option<FinishReason>,
    saw_tool_call: bool,
    /// `[DONE]` arrived: the answer ended as it should.
    done: bool,
    /// `[DONE]` arrived, or an error ended the stream: nothing more is read.
    over: bool,
}

impl ChunkDecoder {
    /// A decoder at the start of an answer.
    pub fn new() -> ChunkDecoder {
        ChunkDecoder::default()
    }

    /// Whether the stream is complete (or failed) and the rest can be ignored.
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// Whether `[DONE]` arrived (as opposed to an error ending the stream).
    pub fn saw_done(&self) -> bool {
        self.done
    }

    /// Decodes one SSE event's data. After an `Err` the decoder is over.
    pub fn push(&mut self, data: &str) -> Vec<StreamItem> {
        let mut out = Vec::new();
        if self.over {
            return out;
        }
        if data.trim() == "[DONE]" {
            self.flush_text(&mut out);
            let reason = self.finish.take().unwrap_or(if self.saw_tool_call {
                FinishReason::ToolCalls
            } else {
                FinishReason::Stop
            });
            out.push(Ok(ChatEvent::Finished { reason }));
            self.over = true;
            self.done = true;
            return out;
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                self.over = true;
                out.push(Err(BackendError::Malformed(json_error("stream chunk", &e))));
                return out;
            }
        };
        if let Some(err) = chunk.error {
            // The provider gave up mid-answer; what came before stands.
            self.over = true;
            let message = err
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("unknown");
            let message: String = message.chars().take(300).collect();
            out.push(Err(BackendError::StreamCut(format!(
                "provider error: {message}"
            ))));
            return out;
        }
        // One choice is asked for (no `n`); others, if any, are ignored.
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            let d = &choice.delta;
            if let Some(r) = d.reasoning_content.as_deref().or(d.reasoning.as_deref())
                && !r.is_empty()
            {
                out.push(Ok(ChatEvent::Reasoning { text: r.to_owned() }));
            }
            if let Some(text) = d.content.as_deref() {
                pieces_to_events(self.think.push(text), &mut out);
            }
            for (pos, call) in d.tool_calls.iter().enumerate() {
                let f = call.function.as_ref();
                let event = ChatEvent::ToolCall {
                    index: call.index.unwrap_or(u32::try_from(pos).unwrap_or(u32::MAX)),
                    id: call.id.clone().filter(|s| !s.is_empty()),
                    name: f.and_then(|f| f.name.clone()).filter(|s| !s.is_empty()),
                    arguments: wire::arguments_text(f.and_then(|f| f.arguments.as_ref())),
                };
                self.saw_tool_call = true;
                out.push(Ok(event));
            }
            if let Some(reason) = wire::finish_reason(choice.finish_reason.as_deref()) {
                self.finish.get_or_insert(reason);
            }
        }
        if let Some(usage) = chunk.usage {
            out.push(Ok(ChatEvent::Usage {
                usage: usage.to_core(),
            }));
        }
        out
    }

    /// The body ended without `[DONE]`: [`ChunkDecoder::end`] with a
    /// [`BackendError::StreamCut`] carrying `why`.
    pub fn finish(&mut self, why: &str) -> Vec<StreamItem> {
        self.end(BackendError::StreamCut(why.to_owned()))
    }

    /// The stream stopped before `[DONE]` (end of body, broken connection,
    /// idle timeout). With a finish reason the answer is whole, only the
    /// usage may be missing, and it ends with `Finished`; without one it ends
    /// with `cause`, after the text held back so far.
    pub fn end(&mut self, cause: BackendError) -> Vec<StreamItem> {
        let mut out = Vec::new();
        if self.over {
            return out;
        }
        self.over = true;
        self.flush_text(&mut out);
        match self.finish.take() {
            Some(reason) => out.push(Ok(ChatEvent::Finished { reason })),
            None => out.push(Err(cause)),
        }
        out
    }

    fn flush_text(&mut self, out: &mut Vec<StreamItem>) {
        pieces_to_events(self.think.finish(), out);
    }
}

fn pieces_to_events(pieces: Vec<Piece>, out: &mut Vec<StreamItem>) {
    for p in pieces {
        out.push(Ok(match p {
            Piece::Text(text) => ChatEvent::Text { text },
            Piece::Reasoning(text) => ChatEvent::Reasoning { text },
        }));
    }
}

/// Folds streamed tool-call fragments into whole calls, by `index`.
///
/// The first fragment of a call carries its id and name, the next ones more
/// of its arguments; fragments of parallel calls may interleave.
#[derive(Debug, Default, Clone)]
pub struct ToolCallAssembler {
    calls: BTreeMap<u32, ToolCall>,
}

impl ToolCallAssembler {
    /// An assembler with no call yet.
    pub fn new() -> ToolCallAssembler {
        ToolCallAssembler::default()
    }

    /// Adds one fragment. An id or name already set is kept (some servers
    /// repeat them on every fragment); arguments are appended.
    pub fn push(&mut self, index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) {
        let call = self.calls.entry(index).or_insert_with(|| ToolCall {
            id: String::new(),
            name: String::new(),
            arguments: String::new(),
        });
        if let Some(id) = id.filter(|_| call.id.is_empty()) {
            id.clone_into(&mut call.id);
        }
        if let Some(name) = name.filter(|_| call.name.is_empty()) {
            name.clone_into(&mut call.name);
        }
        call.arguments.push_str(arguments);
    }

    /// Adds the event if it is a [`ChatEvent::ToolCall`]; says whether it was.
    pub fn push_event(&mut self, event: &ChatEvent) -> bool {
        match event {
            ChatEvent::ToolCall {
                index,
                id,
                name,
                arguments,
            } => {
                self.push(*index, id.as_deref(), name.as_deref(), arguments);
                true
            }
            _ => false,
        }
    }

    /// Whether no fragment was pushed.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The calls, in index order.
    pub fn finish(self) -> Vec<ToolCall> {
        self.calls.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmaas_core::TokenUsage;

    fn run(datas: &[&str]) -> Vec<StreamItem> {
        let mut d = ChunkDecoder::new();
        let mut out = Vec::new();
        for data in datas {
            out.extend(d.push(data));
        }
        out.extend(d.finish("eof"));
        out
    }

    #[allow(clippy::unnecessary_wraps)] // compared with stream items
    fn text(t: &str) -> StreamItem {
        Ok(ChatEvent::Text { text: t.into() })
    }

    #[allow(clippy::unnecessary_wraps)]
    fn reasoning(t: &str) -> StreamItem {
        Ok(ChatEvent::Reasoning { text: t.into() })
    }

    #[test]
    fn both_reasoning_styles() {
        let out = run(&[
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"a"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning":"b","content":null}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"<thi"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"nk>c</think>"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Done"},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ]);
        assert_eq!(
            out,
            vec![
                reasoning("a"),
                reasoning("b"),
                reasoning("c"),
                text("Done"),
                Ok(ChatEvent::Finished {
                    reason: FinishReason::Stop
                })
            ]
        );
    }

    #[test]
    fn finish_waits_for_the_usage_chunk() {
        let out = run(&[
            r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"length"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"reasoning_tokens":0},"backend":{"engine_type":"vllm"}}"#,
            "[DONE]",
        ]);
        let usage = TokenUsage {
            prompt_tokens: 3,
            completion_tokens: 1,
            reasoning_tokens: Some(0),
        };
        assert_eq!(
            out,
            vec![
                text("Hi"),
                Ok(ChatEvent::Usage { usage }),
                Ok(ChatEvent::Finished {
                    reason: FinishReason::Length
                })
            ]
        );
    }

    #[test]
    fn usage_without_choices_is_optional_and_done_is_optional_after_a_finish() {
        let out =
            run(&[r#"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#]);
        assert_eq!(
            out,
            vec![
                text("x"),
                Ok(ChatEvent::Finished {
                    reason: FinishReason::Stop
                })
            ]
        );
    }

    #[test]
    fn parallel_tool_calls_interleaved() {
        let out = run(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"weather","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"time","arguments":"{\"tz\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"CET\"}"}},{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ]);
        let mut asm = ToolCallAssembler::new();
        let mut last = None;
        for item in out {
            let e = item.unwrap();
            if !asm.push_event(&e) {
                last = Some(e);
            }
        }
        assert_eq!(
            last,
            Some(ChatEvent::Finished {
                reason: FinishReason::ToolCalls
            })
        );
        assert_eq!(
            asm.finish(),
            vec![
                ToolCall {
                    id: "call_a".into(),
                    name: "weather".into(),
                    arguments: r#"{"city":"Paris"}"#.into()
                },
                ToolCall {
                    id: "call_b".into(),
                    name: "time".into(),
                    arguments: r#"{"tz":"CET"}"#.into()
                },
            ]
        );
    }

    #[test]
    fn cut_malformed_and_in_stream_errors() {
        let out = run(&[r#"{"choices":[{"index":0,"delta":{"content":"Hal"}}]}"#]);
        assert_eq!(
            out,
            vec![text("Hal"), Err(BackendError::StreamCut("eof".into()))]
        );

        let out = run(&[
            r#"{"choices":[{"index":0,"delta":{"content":"a"}}]}"#,
            "{not json",
            "[DONE]",
        ]);
        assert_eq!(out.len(), 2);
        assert!(matches!(&out[1], Err(BackendError::Malformed(m)) if m.contains("invalid JSON")));

        let out = run(&[r#"{"error":{"message":"engine died","type":"server_error"}}"#]);
        assert_eq!(
            out,
            vec![Err(BackendError::StreamCut(
                "provider error: engine died".into()
            ))]
        );
    }

    #[test]
    fn an_unclosed_think_at_the_cut_is_released_before_the_error() {
        let out = run(&[r#"{"choices":[{"index":0,"delta":{"content":"<think>hmm </th"}}]}"#]);
        assert_eq!(
            out,
            vec![
                reasoning("hmm "),
                reasoning("</th"),
                Err(BackendError::StreamCut("eof".into()))
            ]
        );
    }
}
