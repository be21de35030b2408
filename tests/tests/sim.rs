//! The simulator, tested as a client sees it: reqwest against a started server.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use llmaas_sim::{Faults, RATE_LIMIT_MESSAGE, SimConfig, Simulator};
use serde_json::{Value, json};

#[tokio::test]
async fn missing_or_wrong_key_is_401_with_the_documented_body() {
    let sim = start();
    let url = format!("{}/chat/completions", sim.base_url());
    let body = user(CHAT_MODEL, "hi");
    let expected = json!({"error":{"message":"Invalid API key provided","type":"authentication_error","code":"invalid_api_key"}});
    let none = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("x-request-id"));
    assert_eq!(none.json::<Value>().await.unwrap(), expected);
    let wrong = client()
        .post(&url)
        .bearer_auth("sk-wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.json::<Value>().await.unwrap(), expected);
    let reqs = sim.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| !r.authorized));
    assert_eq!(reqs[0].model.as_deref(), Some(CHAT_MODEL));
}

#[tokio::test]
async fn models_list_has_aliases_context_and_owner() {
    let sim = start();
    let resp = client()
        .get(format!("{}/models", sim.base_url()))
        .bearer_auth(KEY)
        .header("X-Request-Id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-request-id"], "req-42");
    for h in [
        "x-ratelimit-limit-requests",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
    ] {
        assert!(resp.headers().contains_key(h), "{h}");
    }
    let list: Value = resp.json().await.unwrap();
    assert_eq!(list["object"], "list");
    let data = list["data"].as_array().unwrap();
    let ocr = data.iter().find(|m| m["id"] == "deepseek-ocr").unwrap();
    assert_eq!(ocr["aliases"], json!(["deepseek-ai/DeepSeek-OCR"]));
    assert_eq!(ocr["max_model_len"], 8192);
    assert_eq!(ocr["owned_by"], "CloudTemple");
    assert_eq!(ocr["object"], "model");
    assert_eq!(ocr["root"], "deepseek-ocr");
    assert_eq!(ocr["permission"], json!([]));
    assert!(data.iter().any(|m| m["id"] == "whisper-1"));
    assert!(data.iter().any(|m| m["id"] == "granite-embedding:278m"));
    let one: Value = client()
        .get(format!(
            "{}/models/deepseek-ai/DeepSeek-OCR",
            sim.base_url()
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], "deepseek-ocr");
}

#[tokio::test]
async fn chat_echoes_with_usage() {
    let sim = start();
    let (status, body) = chat(&sim, &user(CHAT_MODEL, "Bonjour le monde")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], CHAT_MODEL);
    let choice = &body["choices"][0];
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "Echo: Bonjour le monde");
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(body["usage"]["completion_tokens"], 4);
    assert_eq!(body["usage"]["prompt_tokens"], 4 + 3);
    assert_eq!(body["usage"]["total_tokens"], 11);
    assert_eq!(body["backend"]["engine_type"], "vllm");
    assert_eq!(sim.output_tokens_used(), 4);
}

#[tokio::test]
async fn stream_has_role_tokens_finish_usage_and_done() {
    let sim = start();
    let resp = post(
        &sim,
        "/chat/completions",
        &streamed(user(CHAT_MODEL, "un deux trois")),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let chunks = chunks(&events(&resp.text().await.unwrap()));
    let id = &chunks[0]["id"];
    assert!(chunks.iter().all(|c| &c["id"] == id));
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(concat(&chunks, "content"), "Echo: un deux trois");
    let tokens = chunks
        .iter()
        .filter(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        })
        .count();
    assert_eq!(tokens, 4, "one token per chunk");
    let n = chunks.len();
    assert_eq!(chunks[n - 2]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[n - 1]["choices"], json!([]));
    assert_eq!(chunks[n - 1]["usage"]["completion_tokens"], 4);
    assert_eq!(chunks[n - 1]["backend"]["machine_name"], "sim");
    let stats = sim.stream_stats();
    assert_eq!((stats.started, stats.completed), (1, 1));
}

#[tokio::test]
async fn reasoning_content_style() {
    let sim = start();
    let (_, body) = chat(&sim, &user("gpt-oss:120b", "salut")).await;
    let msg = &body["choices"][0]["message"];
    assert_eq!(msg["content"], "Echo: salut");
    assert_eq!(msg["reasoning_content"], llmaas_sim::answer::REASONING);
    let reasoning = llmaas_sim::answer::tokens(llmaas_sim::answer::REASONING).len();
    assert_eq!(body["usage"]["reasoning_tokens"], reasoning);
    assert_eq!(body["usage"]["completion_tokens"], reasoning + 2);

    let resp = post(
        &sim,
        "/chat/completions",
        &streamed(user("gpt-oss:120b", "salut")),
    )
    .await;
    let chunks = chunks(&events(&resp.text().await.unwrap()));
    assert_eq!(
        concat(&chunks, "reasoning_content"),
        llmaas_sim::answer::REASONING
    );
    assert_eq!(concat(&chunks, "content"), "Echo: salut");
}

#[tokio::test]
async fn inline_think_style_and_nothink() {
    let sim = start();
    let (_, body) = chat(&sim, &user("qwen3-2507:235b", "salut")).await;
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.starts_with("<think>\n"), "{content}");
    assert!(content.ends_with("</think>\n\nEcho: salut"), "{content}");
    assert!(
        body["choices"][0]["message"]
            .get("reasoning_content")
            .is_none()
    );
    assert!(body["usage"]["reasoning_tokens"].as_u64().unwrap() > 2);

    let (_, body) = chat(&sim, &user("qwen3-2507:235b", "salut /nothink")).await;
    assert_eq!(body["choices"][0]["message"]["content"], "Echo: salut");
    assert_eq!(body["usage"]["reasoning_tokens"], 0);

    let resp = post(
        &sim,
        "/chat/completions",
        &streamed(user("qwen3-2507:235b", "salut")),
    )
    .await;
    let chunks = chunks(&events(&resp.text().await.unwrap()));
    assert_eq!(concat(&chunks, "content"), content);
}

#[tokio::test]
async fn tool_call_then_tool_result() {
    let sim = start();
    let mut body = user(CHAT_MODEL, "Paris");
    body["tools"] = weather_tools();
    let (status, resp) = chat(&sim, &body).await;
    assert_eq!(status, 200, "{resp}");
    let choice = &resp["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({ "city": "Paris", "days": 42 }));

    body["messages"] = json!([
        { "role": "user", "content": "Paris" },
        { "role": "assistant", "content": null, "tool_calls": [call] },
        { "role": "tool", "tool_call_id": call["id"], "content": "18 °C" },
    ]);
    let (_, resp) = chat(&sim, &body).await;
    assert_eq!(
        resp["choices"][0]["message"]["content"],
        "The tool returned: 18 °C"
    );

    let mut none = user(CHAT_MODEL, "Paris");
    none["tools"] = weather_tools();
    none["tool_choice"] = json!("none");
    let (_, resp) = chat(&sim, &none).await;
    assert_eq!(resp["choices"][0]["message"]["content"], "Echo: Paris");
}

#[tokio::test]
async fn streamed_tool_call_comes_in_fragments() {
    let sim = start();
    let mut body = streamed(user(CHAT_MODEL, "Lyon"));
    body["tools"] = weather_tools();
    let resp = post(&sim, "/chat/completions", &body).await;
    let chunks = chunks(&events(&resp.text().await.unwrap()));
    let frags: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert!(frags.len() >= 3, "{frags:?}");
    assert!(frags.iter().all(|f| f["index"] == 0));
    assert!(frags[0]["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(frags[0]["function"]["name"], "get_weather");
    assert_eq!(frags[0]["function"]["arguments"], "");
    let args: String = frags
        .iter()
        .filter_map(|f| f["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({ "city": "Lyon", "days": 42 })
    );
    let n = chunks.len();
    assert_eq!(chunks[n - 2]["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn max_tokens_truncates_with_length() {
    let sim = start();
    let mut body = user(CHAT_MODEL, "a b c d e f");
    body["max_tokens"] = json!(3);
    let (_, resp) = chat(&sim, &body).await;
    assert_eq!(resp["choices"][0]["message"]["content"], "Echo: a b ");
    assert_eq!(resp["choices"][0]["finish_reason"], "length");
    assert_eq!(resp["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn request_errors_have_the_provider_shape() {
    let sim = start();
    let (status, body) = chat(&sim, &user("no-such-model", "hi")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(
        body["error"]["message"],
        "The model `no-such-model` does not exist"
    );

    let resp = client()
        .post(format!("{}/chat/completions", sim.base_url()))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{\"model\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let (status, _) = chat(&sim, &json!({ "model": CHAT_MODEL })).await;
    assert_eq!(status, 400, "missing messages");
    let mut hot = user(CHAT_MODEL, "hi");
    hot["temperature"] = json!(2.5);
    let (status, body) = chat(&sim, &hot).await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("temperature"))
    );
    let (status, _) = chat(&sim, &user("granite-embedding:278m", "hi")).await;
    assert_eq!(status, 400, "embedding model cannot chat");
}

#[tokio::test]
async fn oversized_image_is_413_and_ocr_reads_a_table() {
    let sim = start();
    let (status, body) = chat(
        &sim,
        &image_message(
            "deepseek-ai/DeepSeek-OCR",
            "Convert the document to markdown.",
            &png(4000, 1000),
        ),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");

    let (status, body) = chat(
        &sim,
        &image_message(
            "deepseek-ai/DeepSeek-OCR",
            "Convert the document to markdown.",
            &png(1240, 1754),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let text = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(text.contains("|---|"), "{text}");
    let seen = sim.requests().pop().unwrap();
    assert_eq!(seen.model.as_deref(), Some("deepseek-ai/DeepSeek-OCR"));
    assert_eq!(seen.body["temperature"], 0.0);
    assert_eq!(seen.body["max_tokens"], 4096);
    assert_eq!(
        seen.body["messages"][0]["content"][1]["text"],
        "Convert the document to markdown."
    );
    assert_eq!((seen.images[0].width, seen.images[0].height), (1240, 1754));

    let (status, _) = chat(&sim, &image_message(CHAT_MODEL, "hi", &png(10, 10))).await;
    assert_eq!(status, 400, "a text-only model refuses images");
}

#[tokio::test]
async fn tier_cap_gives_the_documented_429() {
    let sim = Simulator::start(SimConfig {
        keys: vec!["sk-a".into(), "sk-b".into()],
        output_tokens_per_hour: Some(4),
        ..SimConfig::default()
    })
    .unwrap();
    let send = |key: &'static str| {
        let url = format!("{}/chat/completions", sim.base_url());
        async move {
            client()
                .post(url)
                .bearer_auth(key)
                .json(&user(CHAT_MODEL, "one two three"))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(send("sk-a").await.status(), 200); // 4 output tokens
    let resp = send("sk-a").await;
    assert_eq!(resp.status(), 429);
    let remaining = &resp.headers()["x-ratelimit-remaining-requests"];
    assert_ne!(remaining, "0", "a token cap leaves requests remaining");
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"error":{"message":RATE_LIMIT_MESSAGE,"type":"rate_limit_error","code":"rate_limit_exceeded"}})
    );
    assert_eq!(send("sk-b").await.status(), 200, "caps are per key");
}

#[tokio::test]
async fn first_byte_delay_is_measurable() {
    let sim = start();
    sim.set_faults(Faults {
        first_byte_delay: Duration::from_millis(300),
        ..Faults::default()
    });
    let t = Instant::now();
    let (status, _) = chat(&sim, &user(CHAT_MODEL, "hi")).await;
    assert_eq!(status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn cut_after_drops_the_connection_without_done() {
    let sim = start();
    sim.set_faults(Faults {
        cut_after_tokens: Some(2),
        ..Faults::default()
    });
    let resp = post(
        &sim,
        "/chat/completions",
        &streamed(user(CHAT_MODEL, "a b c d e")),
    )
    .await;
    let (events, broke) = read_stream(resp).await;
    assert!(broke, "the body ends in an error");
    assert!(!events.iter().any(|e| e == "[DONE]"));
    let content: String = events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(content, "Echo: a ");
    assert_eq!(sim.stream_stats().cut_by_fault, 1);
}

#[tokio::test]
async fn fail_next_two_then_success() {
    let sim = start();
    sim.set_faults(Faults {
        fail_next: 2,
        retry_after: Some(1),
        ..Faults::default()
    });
    for _ in 0..2 {
        let resp = post(&sim, "/chat/completions", &user(CHAT_MODEL, "hi")).await;
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()["retry-after"], "1");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["type"], "service_unavailable_error");
    }
    let (status, _) = chat(&sim, &user(CHAT_MODEL, "hi")).await;
    assert_eq!(status, 200);
    assert_eq!(sim.faults().fail_next, 0);
}

#[tokio::test]
async fn malformed_chunk_after_n_tokens() {
    let sim = start();
    sim.set_faults(Faults {
        malformed_after_tokens: Some(1),
        ..Faults::default()
    });
    let resp = post(
        &sim,
        "/chat/completions",
        &streamed(user(CHAT_MODEL, "a b c")),
    )
    .await;
    let (events, _) = read_stream(resp).await;
    assert_eq!(events.last().map(String::as_str), Some("{not json"));
    assert!(!events.iter().any(|e| e == "[DONE]"));
    assert_eq!(sim.stream_stats().malformed_by_fault, 1);
}

#[tokio::test]
async fn rate_limit_storm_with_retry_after() {
    let sim = start();
    sim.set_faults(Faults {
        rate_limit_next: 2,
        retry_after: Some(3),
        ..Faults::default()
    });
    // The models list is exempt from faults.
    let models = client()
        .get(format!("{}/models", sim.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 200);
    for _ in 0..2 {
        let resp = post(&sim, "/chat/completions", &user(CHAT_MODEL, "hi")).await;
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "3");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["message"], RATE_LIMIT_MESSAGE);
    }
    assert_eq!(chat(&sim, &user(CHAT_MODEL, "hi")).await.0, 200);
}

#[tokio::test]
async fn omit_stream_usage_leaves_out_the_usage_chunk() {
    let sim = start();
    sim.set_faults(Faults {
        omit_stream_usage: true,
        ..Faults::default()
    });
    let resp = post(&sim, "/chat/completions", &streamed(user(CHAT_MODEL, "x"))).await;
    let chunks = chunks(&events(&resp.text().await.unwrap()));
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
}

#[tokio::test]
async fn client_abort_is_counted() {
    let sim = start();
    sim.set_faults(Faults {
        token_delay: Duration::from_millis(100),
        ..Faults::default()
    });
    let long = "word ".repeat(100);
    let resp = post(
        &sim,
        "/chat/completions",
        &streamed(user(CHAT_MODEL, &long)),
    )
    .await;
    let mut body = resp.bytes_stream();
    body.next().await.unwrap().unwrap();
    drop(body);
    wait_for("the abort to be seen", Duration::from_secs(1), || {
        sim.stream_stats().aborted_by_client == 1
    })
    .await;
    let stats = sim.stream_stats();
    assert_eq!((stats.started, stats.completed), (1, 0));
}

#[tokio::test]
async fn embeddings_single_batch_and_token_ids() {
    let sim = start();
    let url = "/embeddings";
    let model = "granite-embedding:278m";
    let resp = post(&sim, url, &json!({ "model": model, "input": "bonjour" })).await;
    assert_eq!(resp.status(), 200);
    let one: Value = resp.json().await.unwrap();
    let v = one["data"][0]["embedding"].as_array().unwrap();
    assert_eq!(v.len(), 768);
    assert_eq!(one["data"][0]["object"], "embedding");
    assert_eq!(one["usage"]["prompt_tokens"], 1);

    let resp = post(
        &sim,
        url,
        &json!({ "model": model, "input": ["bonjour", "au revoir"] }),
    )
    .await;
    let two: Value = resp.json().await.unwrap();
    assert_eq!(two["data"].as_array().unwrap().len(), 2);
    assert_eq!(two["data"][1]["index"], 1);
    assert_eq!(two["data"][0]["embedding"], one["data"][0]["embedding"]);
    assert_eq!(two["usage"]["total_tokens"], 3);

    let resp = post(
        &sim,
        url,
        &json!({ "model": model, "input": [101, 2023, 102] }),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let resp = post(&sim, url, &json!({ "model": CHAT_MODEL, "input": "x" })).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn transcription_of_a_wav_has_segments_and_language() {
    let sim = start();
    let url = format!("{}/audio/transcriptions", sim.base_url());
    let form = |audio: Vec<u8>, extra: &[(&'static str, &'static str)]| {
        let mut f = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(audio).file_name("speech.wav"),
            )
            .text("model", "whisper-1");
        for (k, v) in extra {
            f = f.text(*k, *v);
        }
        f
    };
    let resp = client()
        .post(&url)
        .bearer_auth(KEY)
        .multipart(form(
            wav(65),
            &[("language", "en"), ("response_format", "json")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["language"], "en");
    let segs = body["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 3);
    assert_eq!(segs[2]["end"], 65.0);
    for key in [
        "id",
        "seek",
        "start",
        "end",
        "text",
        "tokens",
        "temperature",
        "avg_logprob",
        "compression_ratio",
        "no_speech_prob",
    ] {
        assert!(segs[0].get(key).is_some(), "{key}");
    }
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("Segment 1 of the recording.")
    );
    let seen = sim.requests().pop().unwrap();
    assert_eq!(seen.body["file"]["filename"], "speech.wav");
    assert_eq!(seen.body["model"], "whisper-1");

    let default_lang = client()
        .post(&url)
        .bearer_auth(KEY)
        .multipart(form(wav(1), &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        default_lang.json::<Value>().await.unwrap()["language"],
        "fr"
    );
    for (audio, extra) in [
        (Vec::new(), &[][..]),
        (b"garbage".to_vec(), &[][..]),
        (wav(1), &[("response_format", "srt")][..]),
    ] {
        let resp = client()
            .post(&url)
            .bearer_auth(KEY)
            .multipart(form(audio, extra))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
    }
}

#[tokio::test]
async fn completions_echo_the_prompt() {
    let sim = start();
    let resp = post(
        &sim,
        "/completions",
        &json!({ "model": CHAT_MODEL, "prompt": "once upon" }),
    )
    .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["choices"][0]["text"], "Echo: once upon");
    assert_eq!(body["object"], "text_completion");
}

#[tokio::test]
async fn shutdown_is_graceful() {
    let sim = start();
    let addr = sim.addr();
    sim.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn the_binary_prints_its_address() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_llmaas-sim"))
        .args(["--port", "0", "--tier", "2", "--fail-next", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("llmaas-sim listening on http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/v1"));
    let port: Option<u16> = url.and_then(|p| p.parse().ok());
    let reachable = port.is_some_and(|p| std::net::TcpStream::connect(("127.0.0.1", p)).is_ok());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(port.is_some(), "unexpected first line {line:?}");
    assert!(reachable);
}
