//! Helpers shared by the integration tests that talk to the simulator over HTTP.
// Each test binary that includes this module uses only some of the helpers.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use llmaas_sim::media::base64_encode;
use llmaas_sim::{SimConfig, SimHandle, Simulator};
use serde_json::{Value, json};

pub const KEY: &str = "sk-test";
pub const CHAT_MODEL: &str = "llama3.3:70b";

pub fn start() -> SimHandle {
    Simulator::start(SimConfig::default()).expect("simulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub async fn post(sim: &SimHandle, path: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}{path}", sim.base_url()))
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

pub async fn chat(sim: &SimHandle, body: &Value) -> (u16, Value) {
    let resp = post(sim, "/chat/completions", body).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

pub fn user(model: &str, text: &str) -> Value {
    json!({ "model": model, "messages": [{ "role": "user", "content": text }] })
}

pub fn streamed(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body
}

/// The `data:` payloads of an SSE body.
pub fn events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_owned))
        .collect()
}

/// Reads a stream to its end or its error: the events, and whether it broke.
pub async fn read_stream(resp: reqwest::Response) -> (Vec<String>, bool) {
    let mut text = String::new();
    let mut broke = false;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let Ok(b) = chunk else {
            broke = true;
            break;
        };
        text.push_str(&String::from_utf8_lossy(&b));
    }
    (events(&text), broke)
}

/// The JSON chunks of a completed stream (everything before `[DONE]`).
pub fn chunks(events: &[String]) -> Vec<Value> {
    assert_eq!(
        events.last().map(String::as_str),
        Some("[DONE]"),
        "{events:?}"
    );
    events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).expect("chunk is JSON"))
        .collect()
}

pub fn concat(chunks: &[Value], field: &str) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"][field].as_str())
        .collect()
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    v
}

pub fn image_message(model: &str, prompt: &str, image: &[u8]) -> Value {
    let url = format!("data:image/png;base64,{}", base64_encode(image));
    json!({ "model": model, "temperature": 0.0, "max_tokens": 4096, "messages": [{ "role": "user", "content": [
        { "type": "image_url", "image_url": { "url": url } },
        { "type": "text", "text": prompt },
    ]}]})
}

/// 16 kHz mono PCM silence.
pub fn wav(seconds: u32) -> Vec<u8> {
    llmaas_sim::media::silent_wav(seconds, 16_000)
}

pub async fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn weather_tools() -> Value {
    json!([{ "type": "function", "function": { "name": "get_weather", "parameters": {
        "type": "object",
        "properties": { "city": { "type": "string" }, "days": { "type": "integer" } },
        "required": ["city", "days"] } } }])
}
