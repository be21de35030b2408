//! `POST /audio/transcriptions`: a multipart upload, a JSON answer with segments.

use bytes::Bytes;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};

use crate::client::{Call, CloudClient, new_request_id, read_json};
use crate::error::CloudError;

/// What Whisper does with the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Text in the spoken language.
    Transcribe,
    /// Text in English.
    Translate,
}

impl Task {
    fn as_str(self) -> &'static str {
        match self {
            Task::Transcribe => "transcribe",
            Task::Translate => "translate",
        }
    }
}

/// One audio file (or one chunk of a long recording) to transcribe.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptionRequest {
    /// The name sent with the file; its extension tells the server the format.
    pub file_name: String,
    /// The encoded audio (wav, mp3, m4a), as is.
    pub bytes: Bytes,
    /// `audio/wav`, `audio/mpeg`, `audio/mp4`...
    pub mime: String,
    /// `whisper-1`, as the provider's examples send.
    pub model: String,
    /// ISO 639-1 (`fr`); the server detects the language when absent.
    pub language: Option<String>,
    /// Context for the decoder (names, jargon, the end of the previous chunk).
    pub prompt: Option<String>,
    /// Transcribe (the default) or translate to English.
    pub task: Option<Task>,
}

/// One segment of a transcription, as the provider sends it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WireSegment {
    /// Position of the segment in the answer, from 0.
    pub id: u64,
    /// Whisper's window offset (in frames) the segment was decoded from.
    pub seek: u64,
    /// Start, in seconds from the start of the file.
    pub start: f64,
    /// End, in seconds from the start of the file.
    pub end: f64,
    /// The segment's text (Whisper puts a leading space).
    pub text: String,
    /// Whisper's token ids.
    pub tokens: Vec<i64>,
    /// The sampling temperature the decoder ended at (a fallback sign).
    pub temperature: Option<f64>,
    /// Mean token log-probability: low values flag doubtful text.
    pub avg_logprob: Option<f64>,
    /// High values flag repetition loops.
    pub compression_ratio: Option<f64>,
    /// The probability that the segment is silence.
    pub no_speech_prob: Option<f64>,
}

/// A transcription.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcription {
    /// The whole text, trimmed.
    pub text: String,
    /// The language spoken (given or detected), when the server says.
    pub language: Option<String>,
    /// Timed segments; SRT/VTT exports are built from them (the provider
    /// only answers JSON).
    pub segments: Vec<WireSegment>,
    /// The provider's `x-request-id`, else the id we sent.
    pub request_id: String,
}

#[derive(Debug, Deserialize)]
struct WireTranscription {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    segments: Option<Vec<WireSegment>>,
}

impl CloudClient {
    /// Uploads the audio, returns the text and its segments.
    ///
    /// The prompt goes out as both `prompt` (OpenAI's name, which the
    /// provider's examples use) and `initial_prompt` (the provider's
    /// documented name). Only `response_format=json` exists on this API.
    pub async fn transcribe(&self, req: TranscriptionRequest) -> Result<Transcription, CloudError> {
        // Checked once here, so that a bad MIME type is not found only while
        // building the first attempt.
        Part::bytes(Vec::new())
            .mime_str(&req.mime)
            .map_err(|_| CloudError::InvalidConfig("the audio MIME type is not valid".into()))?;
        let request_id = new_request_id();
        let call = Call {
            method: Method::POST,
            path: "/audio/transcriptions",
            request_id: &request_id,
            streaming: false,
        };
        let sent = self.send(&call, |rb| rb.multipart(form(&req))).await?;
        let (answer, request_id): (WireTranscription, _) =
            read_json(sent, "/audio/transcriptions").await?;
        Ok(Transcription {
            text: answer.text.unwrap_or_default().trim().to_owned(),
            language: answer.language.filter(|l| !l.is_empty()),
            segments: answer.segments.unwrap_or_default(),
            request_id,
        })
    }
}

/// The multipart form of one attempt (a `Form` is consumed by sending).
fn form(req: &TranscriptionRequest) -> Form {
    let len = req.bytes.len() as u64;
    let file = Part::stream_with_length(reqwest::Body::from(req.bytes.clone()), len)
        .file_name(req.file_name.clone())
        .mime_str(&req.mime)
        .expect("the MIME type was checked in transcribe");
    let mut form = Form::new()
        .part("file", file)
        .text("model", req.model.clone())
        .text("response_format", "json");
    if let Some(lang) = &req.language {
        form = form.text("language", lang.clone());
    }
    if let Some(prompt) = &req.prompt {
        form = form
            .text("prompt", prompt.clone())
            .text("initial_prompt", prompt.clone());
    }
    if let Some(task) = req.task {
        form = form.text("task", task.as_str());
    }
    form
}
