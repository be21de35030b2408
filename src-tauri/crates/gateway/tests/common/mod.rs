//! A gateway over the simulator (and optionally the fake local engine), with
//! one token, for the integration tests.
#![allow(dead_code)] // each test binary uses its own part of this.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use llmaas_cloud::{CloudClient, CloudConfig};
use llmaas_core::{ModelId, Secret};
use llmaas_gateway::{Gateway, GatewayOptions, NewToken, TokenStore};
use llmaas_ledger::{Ledger, TierLimits};
use llmaas_router::{Router, RouterConfig};
use llmaas_sim::{FAKE_LOCAL_MODEL, FakeLocal, SimConfig, SimHandle, Simulator};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const CHAT_MODEL: &str = "mistral-small4:119b";

/// How to start one.
pub struct Setup {
    pub sim: SimConfig,
    pub limits: TierLimits,
    pub local: Option<FakeLocal>,
    pub options: GatewayOptions,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            sim: SimConfig::default(),
            limits: TierLimits::default(),
            local: None,
            options: GatewayOptions {
                bind: "127.0.0.1:0".parse().unwrap(),
                ..GatewayOptions::default()
            },
        }
    }
}

/// A running gateway and what it stands on.
pub struct Env {
    pub sim: SimHandle,
    /// `http://127.0.0.1:PORT/v1`.
    pub url: String,
    pub addr: std::net::SocketAddr,
    pub router: Router,
    pub tokens: TokenStore,
    /// A live token without project, policy or cap.
    pub token: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Setup {
    pub async fn start(self) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let sim = Simulator::start(self.sim).unwrap();
        let cloud = CloudClient::new(CloudConfig::new(
            sim.base_url(),
            Some(Secret::new("sk-test")),
        ))
        .unwrap();
        let ledger = Ledger::open(dir.path().join("ledger.sqlite3"))
            .await
            .unwrap();
        let mut builder = Router::builder(ledger).cloud(cloud).config(RouterConfig {
            limits: self.limits,
            ..RouterConfig::default()
        });
        let mut options = self.options;
        if let Some(local) = self.local {
            builder = builder.local(Arc::new(local));
            options.local_models = vec![ModelId::new(FAKE_LOCAL_MODEL)];
        }
        let router = builder.build();
        let tokens = TokenStore::open(TokenStore::file_in(dir.path()))
            .await
            .unwrap();
        let (token, _) = tokens
            .create(&NewToken {
                name: "tester".into(),
                ..NewToken::default()
            })
            .await
            .unwrap();
        let bound = match Gateway::new(router.clone(), tokens.clone(), options)
            .bind()
            .await
        {
            Ok(b) => b,
            Err(e) => panic!("the gateway did not start: {e}"),
        };
        let (url, addr) = (bound.url(), bound.addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(bound.run(async move {
            let _ = stopped.await;
        }));
        Env {
            sim,
            url,
            addr,
            router,
            tokens,
            token: token.expose().to_owned(),
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }
}

impl Setup {
    /// The error binding this setup fails with (a bad option).
    #[allow(dead_code)] // not every test binary uses it
    pub async fn bind_error(self) -> String {
        let started = tokio::spawn(async move { drop(self.start().await) });
        match started.await {
            Ok(()) => panic!("the gateway started"),
            Err(panicked) => {
                let p = panicked.into_panic();
                p.downcast_ref::<String>().cloned().unwrap_or_default()
            }
        }
    }
}

impl Env {
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.post_as(&self.token, path, body).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// A whole chat answer: status and body.
    pub async fn chat(&self, body: &Value) -> (u16, Value) {
        let resp = self.post("/chat/completions", body).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON body"))
    }

    /// A token with these properties.
    pub async fn token_with(&self, new: NewToken) -> String {
        self.tokens
            .create(&new)
            .await
            .unwrap()
            .0
            .expose()
            .to_owned()
    }

    pub async fn rows(&self) -> u64 {
        self.router.ledger().count().await.unwrap()
    }

    /// Starts the graceful shutdown; `finished` waits for it.
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn finished(&mut self) {
        self.shutdown();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("the gateway stops in time")
                .unwrap();
        }
    }
}

pub fn user(model: &str, text: &str) -> Value {
    json!({ "model": model, "messages": [{ "role": "user", "content": text }] })
}

/// The `data:` payloads of an SSE body.
pub fn events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: ").map(str::to_owned))
        .collect()
}

/// Reads a whole stream: its events.
pub async fn read_stream(resp: reqwest::Response) -> Vec<String> {
    let mut text = String::new();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.expect("stream chunk")));
    }
    events(&text)
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

/// The text of the chunks' `delta.<field>`, joined.
pub fn joined(chunks: &[Value], field: &str) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"][field].as_str())
        .collect()
}

/// A PNG header of the given size: enough for the simulator's checks.
pub fn png_data_url(width: u32, height: u32) -> String {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    format!(
        "data:image/png;base64,{}",
        llmaas_sim::media::base64_encode(&v)
    )
}
