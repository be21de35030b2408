//! Our chat types to mistral.rs's and back. Kept apart from the engine so the
//! mapping (sampling defaults, tool calls, what a local text model refuses)
//! is tested without loading a model.

use std::collections::HashMap;

use llmaas_core::{
    BackendError, ChatEvent, ChatRequest, FinishReason, Role, TokenUsage, ToolChoice,
};
use mistralrs::{
    CalledFunction, ChunkChoice, Function, RequestBuilder, SamplingParams, StopTokens,
    TextMessageRole, Tool, ToolCallResponse, ToolCallType, ToolType,
};

/// The provider's default temperature (FACTS.md): a request that sets none
/// samples the same way on either route.
pub const DEFAULT_TEMPERATURE: f64 = 0.7;

/// Builds mistral.rs's request, or says why a local text model cannot take it.
pub fn request(req: &ChatRequest) -> Result<RequestBuilder, BackendError> {
    if req.messages.iter().any(llmaas_core::Message::has_image) {
        return Err(BackendError::BadRequest(
            "local models here read text only: send images to a cloud vision model".into(),
        ));
    }
    let mut b = RequestBuilder::new();
    for m in &req.messages {
        let text = m.text();
        b = match m.role {
            Role::System => b.add_message(TextMessageRole::System, text),
            Role::User => b.add_message(TextMessageRole::User, text),
            Role::Assistant if !m.tool_calls.is_empty() => b.add_message_with_tool_call(
                TextMessageRole::Assistant,
                text,
                m.tool_calls
                    .iter()
                    .enumerate()
                    .map(|(index, c)| ToolCallResponse {
                        index,
                        id: c.id.clone(),
                        tp: ToolCallType::Function,
                        function: CalledFunction {
                            name: c.name.clone(),
                            arguments: c.arguments.clone(),
                        },
                    })
                    .collect(),
            ),
            Role::Assistant => b.add_message(TextMessageRole::Assistant, text),
            Role::Tool => b.add_tool_message(text, m.tool_call_id.clone().unwrap_or_default()),
        };
    }
    b = b.set_sampling(sampling(req));
    if !req.tools.is_empty() && req.tool_choice != Some(ToolChoice::None) {
        let tools: Vec<Tool> = req.tools.iter().map(tool).collect::<Result<_, _>>()?;
        let choice = match &req.tool_choice {
            Some(ToolChoice::Function(name)) => {
                let t = tools
                    .iter()
                    .find(|t| &t.function.name == name)
                    .ok_or_else(|| {
                        BackendError::BadRequest(format!(
                            "tool_choice names `{name}`, which is not among the tools"
                        ))
                    })?;
                mistralrs::ToolChoice::Tool(t.clone())
            }
            _ => mistralrs::ToolChoice::Auto,
        };
        b = b.set_tools(tools).set_tool_choice(choice);
    }
    Ok(b)
}

fn sampling(req: &ChatRequest) -> SamplingParams {
    let temperature = req.temperature.map_or(DEFAULT_TEMPERATURE, f64::from);
    let mut p = SamplingParams::deterministic();
    // Temperature 0 is greedy (top-k 1, as `deterministic` has it); otherwise sample.
    if temperature > 0.0 {
        p.temperature = Some(temperature);
        p.top_k = None;
        p.top_p = req.top_p.map(f64::from);
    }
    p.max_len = Some(req.max_output_tokens() as usize);
    if !req.stop.is_empty() {
        p.stop_toks = Some(StopTokens::Seqs(req.stop.clone()));
    }
    p
}

fn tool(spec: &llmaas_core::ToolSpec) -> Result<Tool, BackendError> {
    let parameters: Option<HashMap<String, serde_json::Value>> = match &spec.parameters {
        serde_json::Value::Null => None,
        serde_json::Value::Object(map) => Some(map.clone().into_iter().collect()),
        _ => {
            return Err(BackendError::BadRequest(format!(
                "the parameters of tool `{}` are not a JSON object",
                spec.name
            )));
        }
    };
    Ok(Tool {
        tp: ToolType::Function,
        function: Function {
            description: spec.description.clone(),
            name: spec.name.clone(),
            parameters,
        },
    })
}

/// The events of one streamed chunk choice.
pub fn events(choice: &ChunkChoice, out: &mut Vec<ChatEvent>) {
    if let Some(r) = &choice.delta.reasoning_content
        && !r.is_empty()
    {
        out.push(ChatEvent::Reasoning { text: r.clone() });
    }
    if let Some(t) = &choice.delta.content
        && !t.is_empty()
    {
        out.push(ChatEvent::Text { text: t.clone() });
    }
    for (i, call) in choice.delta.tool_calls.iter().flatten().enumerate() {
        out.push(ChatEvent::ToolCall {
            index: u32::try_from(i).unwrap_or(u32::MAX),
            id: Some(call.id.clone()),
            name: Some(call.function.name.clone()),
            arguments: call.function.arguments.clone(),
        });
    }
}

/// mistral.rs's finish reasons (`stop`, `length`, `tool_calls`, `canceled`, …).
pub fn finish(reason: &str) -> FinishReason {
    FinishReason::from_wire(reason)
}

pub fn usage(u: &mistralrs::Usage) -> TokenUsage {
    TokenUsage {
        prompt_tokens: u.prompt_tokens as u64,
        completion_tokens: u.completion_tokens as u64,
        reasoning_tokens: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmaas_core::{Message, ToolSpec};
    use mistralrs::RequestLike as _;

    #[test]
    fn sampling_follows_the_provider_defaults() {
        let mut req = ChatRequest::new("m", vec![Message::user("hi")]);
        let p = sampling(&req);
        assert_eq!(p.temperature, Some(DEFAULT_TEMPERATURE));
        assert_eq!(p.top_k, None);
        assert_eq!(p.max_len, Some(1024));
        req.temperature = Some(0.0);
        req.max_tokens = Some(8);
        req.stop = vec!["\n\n".into()];
        let p = sampling(&req);
        assert_eq!(
            (p.temperature, p.top_k, p.max_len),
            (None, Some(1), Some(8))
        );
        assert!(matches!(p.stop_toks, Some(StopTokens::Seqs(s)) if s == ["\n\n"]));
    }

    #[test]
    fn images_are_refused_with_a_reason() {
        let req = ChatRequest::new(
            "m",
            vec![Message::user("what is this?").with_image("data:image/png;base64,AAAA")],
        );
        let Err(err) = request(&req) else {
            panic!("an image was accepted")
        };
        assert!(matches!(err, BackendError::BadRequest(m) if m.contains("text only")));
    }

    #[test]
    fn conversations_and_tools_map_across() {
        let mut req = ChatRequest::new(
            "m",
            vec![
                Message::system("be brief"),
                Message::user("weather?"),
                Message {
                    tool_calls: vec![llmaas_core::ToolCall {
                        id: "c1".into(),
                        name: "weather".into(),
                        arguments: "{\"city\":\"Paris\"}".into(),
                    }],
                    ..Message::assistant("")
                },
                Message::tool_result("c1", "sunny"),
            ],
        );
        req.tools = vec![ToolSpec {
            name: "weather".into(),
            description: Some("the weather".into()),
            parameters: serde_json::json!({"type": "object"}),
        }];
        req.tool_choice = Some(ToolChoice::Function("weather".into()));
        let b = request(&req).unwrap();
        assert_eq!(b.messages_ref().len(), 4);
        req.tool_choice = Some(ToolChoice::Function("other".into()));
        assert!(request(&req).is_err());
        req.tools[0].parameters = serde_json::json!([1]);
        req.tool_choice = None;
        assert!(request(&req).is_err());
    }
}
