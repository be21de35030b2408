//! The gateway's API against the simulator: what an OpenAI client sees.

mod common;

use common::{CHAT_MODEL, Setup, chunks, joined, png_data_url, read_stream, user};
use llmaas_core::{Money, RoutePolicy};
use llmaas_gateway::{NewToken, RATE_LIMIT_MESSAGE};
use llmaas_ledger::TierLimits;
use llmaas_sim::{FAKE_LOCAL_MODEL, FakeLocal};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_whole_and_streamed_match_the_simulator() {
    let env = Setup::default().start().await;
    // The simulator's own answer, asked directly.
    let direct: Value = env
        .http
        .post(format!("{}/chat/completions", env.sim.base_url()))
        .bearer_auth("sk-test")
        .json(&user(CHAT_MODEL, "Bonjour tout le monde"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let resp = env
        .post(
            "/chat/completions",
            &user(CHAT_MODEL, "Bonjour tout le monde"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["x-llmaas-route"], "cloud");
    assert!(
        h["x-llmaas-route-reason"]
            .to_str()
            .unwrap()
            .contains("auto")
    );
    let cost: f64 = h["x-llmaas-cost-eur"].to_str().unwrap().parse().unwrap();
    assert!(cost > 0.0);
    let id = h["x-request-id"].to_str().unwrap().to_owned();
    let row = env
        .router
        .ledger()
        .get(&id)
        .await
        .unwrap()
        .expect("ledger row");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], CHAT_MODEL);
    let (ours, theirs) = (&body["choices"][0], &direct["choices"][0]);
    assert_eq!(ours["message"]["content"], theirs["message"]["content"]);
    assert_eq!(ours["message"]["role"], "assistant");
    assert_eq!(ours["finish_reason"], "stop");
    for k in ["prompt_tokens", "completion_tokens", "total_tokens"] {
        assert_eq!(body["usage"][k], direct["usage"][k], "{k}");
    }
    assert_eq!(row.usage.output_tokens, body["usage"]["completion_tokens"]);

    // Streamed, with the usage chunk.
    let mut req = user(CHAT_MODEL, "Bonjour tout le monde");
    req["stream"] = json!(true);
    req["stream_options"] = json!({"include_usage": true});
    let resp = env.post("/chat/completions", &req).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert_eq!(resp.headers()["x-llmaas-route"], "cloud");
    let chunks = chunks(&read_stream(resp).await);
    assert_eq!(joined(&chunks, "content"), "Echo: Bonjour tout le monde");
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(
        last["usage"]["completion_tokens"],
        direct["usage"]["completion_tokens"]
    );
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");

    // Every request is one row, and one request of the caller's.
    assert_eq!(env.rows().await, 2);
    let callers = env
        .tokens
        .list(env.router.ledger(), chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(callers[0].requests, 2);
    assert!(callers[0].spent > Money::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_tools_and_vision() {
    let env = Setup::default().start().await;
    // gpt-oss reasons in `reasoning_content`.
    let (status, body) = env.chat(&user("gpt-oss:120b", "Salut")).await;
    assert_eq!(status, 200, "{body}");
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "Echo: Salut");
    assert!(!message["reasoning_content"].as_str().unwrap().is_empty());
    assert!(body["usage"]["reasoning_tokens"].as_u64().unwrap() > 0);
    let mut req = user("gpt-oss:120b", "Salut");
    req["stream"] = json!(true);
    let chunks = chunks(&read_stream(env.post("/chat/completions", &req).await).await);
    assert!(!joined(&chunks, "reasoning_content").is_empty());
    assert_eq!(joined(&chunks, "content"), "Echo: Salut");

    // A tool call, whole and streamed, then its result back.
    let tools = json!([{"type": "function", "function": {
        "name": "get_weather", "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]);
    let mut req = user(CHAT_MODEL, "Paris");
    req["tools"] = tools.clone();
    let (status, body) = env.chat(&req).await;
    assert_eq!(status, 200, "{body}");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(args["city"].is_string(), "{args}");

    req["stream"] = json!(true);
    let chunks = common::chunks(&read_stream(env.post("/chat/completions", &req).await).await);
    let fragments: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(fragments[0]["index"], 0);
    assert_eq!(fragments[0]["function"]["name"], "get_weather");
    assert!(fragments[0]["id"].is_string());
    let streamed_args: String = fragments
        .iter()
        .filter_map(|f| f["function"]["arguments"].as_str())
        .collect();
    assert!(
        serde_json::from_str::<Value>(&streamed_args).is_ok(),
        "{streamed_args}"
    );
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "tool_calls")
    );

    let follow = json!({"model": CHAT_MODEL, "tools": tools, "messages": [
        {"role": "user", "content": "Paris"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18 °C"},
    ]});
    let (status, body) = env.chat(&follow).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "The tool returned: 18 °C"
    );

    // Vision: both image part styles reach the simulator as images.
    let req = json!({"model": "mistral-small3.2:24b", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": png_data_url(64, 48)}},
        {"type": "image", "image": png_data_url(32, 32)},
    ]}]});
    let (status, body) = env.chat(&req).await;
    assert_eq!(status, 200, "{body}");
    let seen = env.sim.requests();
    assert_eq!(seen.last().unwrap().images.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_embeddings_transcription_and_models() {
    let env = Setup {
        local: Some(FakeLocal::new()),
        ..Setup::default()
    }
    .start()
    .await;
    let resp = env
        .post(
            "/completions",
            &json!({"model": CHAT_MODEL, "prompt": "Il était une fois", "max_tokens": 50}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-llmaas-cost-eur"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["object"], "text_completion");
    assert!(!body["choices"][0]["text"].as_str().unwrap().is_empty());
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);

    for format in ["float", "base64"] {
        let resp = env
            .post("/embeddings", &json!({"model": "granite-embedding:278m", "input": ["un", "deux"], "encoding_format": format}))
            .await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["data"].as_array().unwrap().len(), 2);
        assert_eq!(body["data"][1]["index"], 1);
        if format == "base64" {
            assert!(body["data"][0]["embedding"].is_string());
        } else {
            assert!(body["data"][0]["embedding"][0].is_f64());
        }
    }
    let resp = env
        .post(
            "/embeddings",
            &json!({"model": "granite-embedding:278m", "input": [[1, 2, 3]]}),
        )
        .await;
    assert_eq!(resp.status(), 400);

    // Transcription: the multipart form goes through; billed per started minute.
    let wav = llmaas_sim::media::silent_wav(75, 8000);
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(wav)
                .file_name("a.wav")
                .mime_str("audio/wav")
                .unwrap(),
        )
        .text("model", "whisper-1")
        .text("language", "fr");
    let resp = env
        .http
        .post(format!("{}/audio/transcriptions", env.url))
        .bearer_auth(&env.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    assert!(body["text"].is_string());
    assert_eq!(body["segments"].as_array().unwrap().len(), 3, "{body}");
    let row = env.router.ledger().get(&id).await.unwrap().unwrap();
    assert_eq!(row.usage.audio_seconds, 75);
    assert_eq!(row.cost, "0.02".parse::<Money>().unwrap());
    let last = env.sim.requests().pop().unwrap();
    assert_eq!(last.body["language"], "fr");

    // Models: the catalogue's live ones, the local one, with route hints.
    let models: Value = env
        .http
        .get(format!("{}/models", env.url))
        .bearer_auth(&env.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    let data = models["data"].as_array().unwrap();
    let find = |id: &str| data.iter().find(|m| m["id"] == id).cloned();
    let cloud = find(CHAT_MODEL).expect("catalogue model");
    assert_eq!(cloud["object"], "model");
    assert_eq!(cloud["route_hint"], "cloud");
    assert!(cloud["aliases"].is_array() && cloud["max_model_len"].is_u64());
    assert_eq!(find(FAKE_LOCAL_MODEL).unwrap()["route_hint"], "local");
    // whisper-1 is not catalogued: it comes from the cloud's own list.
    assert!(find("whisper-1").is_some());
    let one = env
        .http
        .get(format!("{}/models/{CHAT_MODEL}", env.url))
        .bearer_auth(&env.token)
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_need_a_live_token() {
    let env = Setup::default().start().await;
    let req = user(CHAT_MODEL, "hi");
    let no_token = env
        .http
        .post(format!("{}/chat/completions", env.url))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    for token in ["llmg_0000", "sk-test", ""] {
        let resp = env.post_as(token, "/chat/completions", &req).await;
        assert_eq!(resp.status(), 401, "{token}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["message"], "Invalid API key provided");
        assert_eq!(body["error"]["type"], "authentication_error");
    }
    let bob = env
        .token_with(NewToken {
            name: "bob".into(),
            ..NewToken::default()
        })
        .await;
    assert_eq!(
        env.post_as(&bob, "/chat/completions", &req).await.status(),
        200
    );
    env.tokens.revoke("bob").await.unwrap();
    assert_eq!(
        env.post_as(&bob, "/chat/completions", &req).await.status(),
        401
    );
    assert_eq!(env.rows().await, 1, "refused callers leave no row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_and_the_callers_cap_answer_the_providers_429() {
    let env = Setup {
        limits: TierLimits {
            output_tokens_per_hour: Some(2_000),
            ..TierLimits::default()
        },
        ..Setup::default()
    }
    .start()
    .await;
    // The worst case (max_tokens) would pass the hourly cap: refused before sending.
    let mut req = user(CHAT_MODEL, "hi");
    req["max_tokens"] = json!(5_000);
    let sent_before = env.sim.request_count();
    let resp = env.post("/chat/completions", &req).await;
    assert_eq!(resp.status(), 429);
    let text = resp.text().await.unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"error":{{"message":"{RATE_LIMIT_MESSAGE}","type":"rate_limit_error","code":"rate_limit_exceeded"}}}}"#
        )
    );
    assert_eq!(env.sim.request_count(), sent_before, "nothing was sent");
    assert_eq!(env.rows().await, 0);

    // A caller's own cap holds each request's worst case: 1,000 output
    // tokens (0.008 €) fit in 0.01 €, 1,300 (0.0104 €) do not.
    let capped = env
        .token_with(NewToken {
            name: "capped".into(),
            project: Some("team-a".into()),
            policy: Some(RoutePolicy::Cloud),
            cap: Some(Money::from_nanos(10_000_000)),
        })
        .await;
    let mut small = user(CHAT_MODEL, "hi");
    small["max_tokens"] = json!(1_000);
    let resp = env.post_as(&capped, "/chat/completions", &small).await;
    assert_eq!(resp.status(), 200);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let row = env.router.ledger().get(&id).await.unwrap().unwrap();
    assert_eq!(
        row.project.as_deref(),
        Some("team-a"),
        "the token's project is on the row"
    );
    let mut large = small.clone();
    large["max_tokens"] = json!(1_300);
    let sent_before = env.sim.request_count();
    let resp = env.post_as(&capped, "/chat/completions", &large).await;
    assert_eq!(resp.status(), 429);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["message"], RATE_LIMIT_MESSAGE);
    assert_eq!(
        env.sim.request_count(),
        sent_before,
        "refused before sending"
    );
    // Other callers are not held back by it.
    assert_eq!(env.post("/chat/completions", &large).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_requests_stay_local_or_are_refused() {
    let env = Setup {
        local: Some(FakeLocal::new()),
        ..Setup::default()
    }
    .start()
    .await;
    let resp = env
        .http
        .post(format!("{}/chat/completions", env.url))
        .bearer_auth(&env.token)
        .header("X-LLMaaS-Confidential", "true")
        .json(&user(FAKE_LOCAL_MODEL, "secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-llmaas-route"], "local");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "one two three four five"
    );
    assert_eq!(env.sim.request_count(), 0, "nothing reached the cloud");

    // Without a local engine, a confidential request is refused with a clear 400.
    let env = Setup::default().start().await;
    let resp = env
        .http
        .post(format!("{}/chat/completions", env.url))
        .bearer_auth(&env.token)
        .header("X-LLMaaS-Confidential", "1")
        .json(&user(CHAT_MODEL, "secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "route_unavailable");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("confidential")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_are_mapped_for_the_caller() {
    let env = Setup::default().start().await;
    // An unknown model: the provider's 404 passes through.
    let (status, body) = env.chat(&user("no-such-model", "hi")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");
    // A retired model is a 404 that says so (and names a successor when there is one).
    let catalog = llmaas_catalog::Catalog::bundled();
    let retired = catalog
        .models()
        .iter()
        .find(|m| m.is_retired())
        .expect("a retired model");
    let (status, body) = env.chat(&user(retired.id.as_str(), "hi")).await;
    assert_eq!(status, 404, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("retired"), "{body}");
    if let Some(successor) = catalog.successor_of(retired.id.as_str()) {
        assert!(message.contains(successor.id.as_str()), "{body}");
    }
    // The provider's 429 storm, after the cloud client's retries: the provider's body.
    env.sim.set_faults(llmaas_sim::Faults {
        rate_limit_next: 100,
        ..llmaas_sim::Faults::default()
    });
    let (status, body) = env.chat(&user(CHAT_MODEL, "hi")).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["message"], RATE_LIMIT_MESSAGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_only_when_configured() {
    let preflight = |url: String| async move {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{url}/chat/completions"))
            .header("Origin", "https://app.example")
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap()
    };
    let env = Setup::default().start().await;
    let resp = preflight(env.url.clone()).await;
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
    let mut setup = Setup::default();
    setup.options.cors_origins = vec!["https://app.example".into()];
    let env = setup.start().await;
    let resp = preflight(env.url.clone()).await;
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example"
    );
}
