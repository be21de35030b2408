//! Chat: one call starts an answer and streams it through its channel.

// Functions here stay short enough to read.
#![warn(clippy::too_many_lines)]

use llmaas_core::{ChatEvent, ChatRequest, ContentPart, Message, Role, RoutePolicy};
use llmaas_router::{RequestOptions, RouterEvent, Summary};
use serde::{Deserialize, Serialize};
use specta::Type;
use specta_typescript::Number;
use tauri::State;
use tauri::ipc::Channel;

use super::spend::BudgetWarning;
use super::{PolicyChoice, RouteName, RouteWhy};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Images larger than this are refused here rather than uploaded (the
/// provider refuses more than 2048 px; 20 MB of data URL is far above that).
const MAX_IMAGE_URL_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, Type, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

/// One turn of the conversation as the window holds it.
#[derive(Debug, Clone, Deserialize, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatTurn {
    pub role: ChatRole,
    pub text: String,
    /// Attached images as `data:image/...;base64,` URLs (vision models).
    #[serde(default)]
    pub images: Vec<String>,
}

/// What the window asks.
#[derive(Debug, Clone, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatInput {
    pub model: String,
    pub turns: Vec<ChatTurn>,
    /// The route picker; absent means the settings' policy.
    pub policy: Option<PolicyChoice>,
    /// Never leaves this machine, whatever the policy.
    pub confidential: bool,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

/// A conversation's own system prompt and sampling, and the settings'
/// defaults for new ones; null is the model's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSettings {
    pub system_prompt: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
}

impl From<&llmaas_config::ChatSettings> for ConversationSettings {
    fn from(c: &llmaas_config::ChatSettings) -> ConversationSettings {
        ConversationSettings {
            system_prompt: c.system_prompt.clone(),
            temperature: c.temperature.map(llmaas_config::Temperature::as_f32),
            max_tokens: c.max_tokens,
        }
    }
}

/// The request as the router planned it, returned before the first token.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatStarted {
    /// Cancel with `cancel_job(jobId)`.
    pub job_id: String,
    pub route: RouteName,
    /// Why this route (confidential, no API key, …), worded by the window.
    pub reason: RouteWhy,
    pub model: String,
    /// The budget guard's warning (50/80/95 % of a limit), if any.
    pub budget_warning: Option<BudgetWarning>,
    /// Older turns of the conversation not sent, to fit the model's context.
    pub dropped_turns: u32,
    /// Older images not sent, to fit the model's context.
    pub dropped_images: u32,
}

/// What an answer cost and how it went: the ledger row.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AnswerSummary {
    pub id: String,
    pub route: RouteName,
    /// A code; conversations saved before codes hold English text (`other`).
    #[serde(deserialize_with = "super::route_why_or_text")]
    #[specta(type = RouteWhy)]
    pub reason: RouteWhy,
    pub model: String,
    /// `done`, `cancelled`, `failed`, `cut`, …
    pub status: String,
    #[specta(type = Number)]
    pub input_tokens: u64,
    #[specta(type = Number)]
    pub output_tokens: u64,
    #[specta(type = Number)]
    pub reasoning_tokens: u64,
    /// The counts are estimates (the backend sent none).
    pub estimated: bool,
    /// Integer nano-euros.
    #[specta(type = Number)]
    pub cost_nanos: i64,
    #[specta(type = Number)]
    pub latency_ms: u64,
    #[specta(type = Option<Number>)]
    pub ttft_ms: Option<u64>,
    /// A local answer's decode speed (tokens after the first over their time).
    #[serde(default)]
    pub decode_tokens_per_s: Option<f64>,
    pub error: Option<String>,
    /// The error's category, for the window's words (`rate_limited`, `offline`…).
    #[serde(default)]
    pub error_code: Option<crate::error::ErrorCode>,
    /// False only when the disk refused the ledger row.
    pub recorded: bool,
}

/// The events of one answer, in order; `finished` is always the last.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ChatStreamEvent {
    Text {
        text: String,
    },
    Reasoning {
        text: String,
    },
    #[serde(rename_all = "camelCase")]
    ToolCall {
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    /// The answer moved to another route before starting (auto fallback).
    Rerouted {
        route: RouteName,
        reason: RouteWhy,
        model: String,
    },
    /// The local model this answer waits for is loading (a cold model):
    /// where it is, then `ready` with the whole load's time.
    #[serde(rename_all = "camelCase")]
    Loading {
        stage: LoadStageName,
        /// Bytes of the stage done, of `total` (converting only; else 0 of 0).
        #[specta(type = Number)]
        done: u64,
        #[specta(type = Number)]
        total: u64,
        #[specta(type = Number)]
        elapsed_ms: u64,
    },
    Finished {
        summary: AnswerSummary,
    },
}

/// Where a local model's load is (`llmaas_local::LoadStage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum LoadStageName {
    Checking,
    Converting,
    Loading,
    Ready,
}

impl From<&llmaas_local::LoadProgress> for ChatStreamEvent {
    fn from(p: &llmaas_local::LoadProgress) -> ChatStreamEvent {
        use llmaas_local::LoadStage;
        ChatStreamEvent::Loading {
            stage: match p.stage {
                LoadStage::Checking => LoadStageName::Checking,
                LoadStage::Converting => LoadStageName::Converting,
                LoadStage::Loading => LoadStageName::Loading,
                LoadStage::Ready => LoadStageName::Ready,
            },
            done: p.done,
            total: p.total,
            elapsed_ms: p.elapsed_ms,
        }
    }
}

/// Starts an answer. Refusals before sending (no key, over budget,
/// confidential with no local model) are errors here; everything after comes
/// through `onEvent`, ending with `finished`.
#[tauri::command]
#[specta::specta]
pub async fn chat_send(
    state: State<'_, AppState>,
    input: ChatInput,
    on_event: Channel<ChatStreamEvent>,
) -> AppResult<ChatStarted> {
    let request = to_request(input.clone())?;
    let router = state.router();
    let options = RequestOptions {
        policy: input.policy.map(RoutePolicy::from),
        confidential: input.confidential,
        // A day's conversation outgrows any context: older turns go, and
        // the window says so, rather than the provider's 400.
        fit_context: true,
        ..RequestOptions::default()
    };
    let mut handle = router.chat(request, options).await?;
    let started = ChatStarted {
        job_id: handle.id.clone(),
        route: handle.route.into(),
        reason: RouteWhy::from(&handle.reason),
        model: handle.model.to_string(),
        budget_warning: handle.budget.as_ref().and_then(BudgetWarning::of),
        dropped_turns: handle.fitted.dropped_turns,
        dropped_images: handle.fitted.dropped_images,
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    state.jobs.insert(&handle.id, cancel.clone());
    let id = handle.id.clone();
    let jobs = std::sync::Arc::clone(&state.jobs);
    // A local answer shows the load of a cold model it waits for; loads
    // reported before this answer started are not its own.
    let mut loads = state.engine.load_events();
    loads.borrow_and_update();
    let local = handle.route == llmaas_core::Route::Local;
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                () = cancel.cancelled() => { handle.cancel(); handle.next().await }
                Ok(()) = loads.changed(), if local => {
                    let load = loads.borrow_and_update().as_ref().map(ChatStreamEvent::from);
                    if let Some(load) = load && on_event.send(load).is_err() {
                        break;
                    }
                    continue;
                }
                e = handle.next() => e,
            };
            let Some(event) = event else { break };
            let last = matches!(event, RouterEvent::Finished(_));
            // A closed window cannot take more: dropping the handle cancels.
            if let Some(event) = to_event(event)
                && on_event.send(event).is_err()
            {
                break;
            }
            if last {
                break;
            }
        }
        jobs.finish(&id);
    });
    Ok(started)
}

/// The ranges the provider accepts, said here rather than by its 400.
fn check_sampling(temperature: Option<f32>, max_tokens: Option<u32>) -> AppResult<()> {
    if temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return Err(AppError::bad_input("the temperature goes from 0 to 2"));
    }
    if max_tokens == Some(0) {
        return Err(AppError::bad_input("an answer needs at least 1 token"));
    }
    Ok(())
}

fn to_request(input: ChatInput) -> AppResult<ChatRequest> {
    if input.model.trim().is_empty() {
        return Err(AppError::bad_input("choose a model"));
    }
    if !input.turns.iter().any(|t| t.role == ChatRole::User) {
        return Err(AppError::bad_input("write a message first"));
    }
    check_sampling(input.temperature, input.max_tokens)?;
    let mut messages = Vec::with_capacity(input.turns.len());
    for turn in input.turns {
        let mut content = Vec::new();
        if !turn.text.is_empty() {
            content.push(ContentPart::Text { text: turn.text });
        }
        for url in turn.images {
            if !url.starts_with("data:image/") {
                return Err(AppError::bad_input(
                    "an attached image must be a PNG, JPEG or WebP file",
                ));
            }
            if url.len() > MAX_IMAGE_URL_BYTES {
                return Err(AppError::bad_input("an attached image is over 20 MB"));
            }
            content.push(ContentPart::Image { url });
        }
        let role = match turn.role {
            ChatRole::System => Role::System,
            ChatRole::User => Role::User,
            ChatRole::Assistant => Role::Assistant,
        };
        messages.push(Message {
            role,
            content,
            tool_calls: Vec::new(),
            tool_call_id: None,
        });
    }
    let mut request = ChatRequest::new(input.model.trim(), messages);
    request.max_tokens = input.max_tokens;
    request.temperature = input.temperature;
    Ok(request)
}

fn to_event(event: RouterEvent) -> Option<ChatStreamEvent> {
    Some(match event {
        RouterEvent::Chat(ChatEvent::Text { text }) => ChatStreamEvent::Text { text },
        RouterEvent::Chat(ChatEvent::Reasoning { text }) => ChatStreamEvent::Reasoning { text },
        RouterEvent::Chat(ChatEvent::ToolCall {
            index,
            id,
            name,
            arguments,
        }) => ChatStreamEvent::ToolCall {
            index,
            id,
            name,
            arguments,
        },
        // Usage and the backend's finish are folded into the summary.
        RouterEvent::Chat(_) => return None,
        RouterEvent::Rerouted {
            route,
            reason,
            model,
        } => ChatStreamEvent::Rerouted {
            route: route.into(),
            reason: RouteWhy::from(&reason),
            model: model.to_string(),
        },
        RouterEvent::Finished(summary) => ChatStreamEvent::Finished {
            summary: summarise(&summary),
        },
    })
}

pub(crate) fn summarise(s: &Summary) -> AnswerSummary {
    AnswerSummary {
        id: s.id.clone(),
        route: s.route.into(),
        reason: RouteWhy::from(&s.reason),
        model: s.model.to_string(),
        status: s.status.to_string(),
        input_tokens: s.usage.input_tokens,
        output_tokens: s.usage.output_tokens,
        reasoning_tokens: s.usage.reasoning_tokens,
        estimated: s.estimated,
        cost_nanos: s.cost.nanos(),
        latency_ms: s.latency_ms,
        ttft_ms: s.ttft_ms,
        decode_tokens_per_s: (s.route == llmaas_core::Route::Local)
            .then(|| s.decode_tokens_per_s())
            .flatten(),
        error: s.error.as_ref().map(ToString::to_string),
        error_code: s.error.clone().map(|e| AppError::from(e).code),
        recorded: s.recorded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: ChatRole, text: &str) -> ChatTurn {
        ChatTurn {
            role,
            text: text.into(),
            images: Vec::new(),
        }
    }

    fn input(turns: Vec<ChatTurn>) -> ChatInput {
        ChatInput {
            model: "mistral-small3.2:24b".into(),
            turns,
            policy: None,
            confidential: false,
            max_tokens: Some(64),
            temperature: None,
        }
    }

    #[test]
    fn turns_become_messages_with_images() {
        let mut user = turn(ChatRole::User, "what is this?");
        user.images.push("data:image/png;base64,AAAA".into());
        let r = to_request(input(vec![turn(ChatRole::System, "be brief"), user])).unwrap();
        assert_eq!(r.messages.len(), 2);
        assert_eq!(r.messages[1].content.len(), 2);
        assert_eq!(r.max_tokens, Some(64));
    }

    #[test]
    fn bad_input_is_refused_before_routing() {
        assert!(to_request(input(vec![turn(ChatRole::System, "x")])).is_err());
        let mut user = turn(ChatRole::User, "see");
        user.images.push("https://example.com/a.png".into());
        let e = to_request(input(vec![user])).unwrap_err();
        assert_eq!(e.code, crate::error::ErrorCode::BadInput);
        let mut blank = input(vec![turn(ChatRole::User, "hi")]);
        blank.model = " ".into();
        assert!(to_request(blank).is_err());
    }

    #[test]
    fn sampling_out_of_the_providers_range_is_refused() {
        for (temperature, max_tokens) in [
            (Some(2.5), None),
            (Some(-0.1), None),
            (Some(f32::NAN), None),
            (None, Some(0)),
        ] {
            let mut i = input(vec![turn(ChatRole::User, "hi")]);
            i.temperature = temperature;
            i.max_tokens = max_tokens;
            let e = to_request(i).unwrap_err();
            assert_eq!(
                e.code,
                crate::error::ErrorCode::BadInput,
                "{temperature:?} {max_tokens:?}"
            );
        }
        let mut ok = input(vec![turn(ChatRole::User, "hi")]);
        ok.temperature = Some(2.0);
        assert_eq!(to_request(ok).unwrap().temperature, Some(2.0));
    }
}
