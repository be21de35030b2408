//! `llmaas chat`: one message (argument or stdin) or an interactive session,
//! streamed to the terminal through the router.

use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};
use std::path::Path;

use base64::Engine as _;
use llmaas_core::{ChatEvent, ChatRequest, Message, ModelId, RequestStatus, RoutePolicy};
use llmaas_router::{RequestOptions, Router, RouterEvent, Summary};
use serde::Serialize;

use crate::args::{ChatArgs, RouteFlags};
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

/// Images above this are refused before reading them whole: the provider
/// takes at most 2048 px on the long side, far below this in any format.
const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

impl RouteFlags {
    pub fn policy(&self) -> Option<RoutePolicy> {
        if self.local {
            Some(RoutePolicy::Local)
        } else if self.cloud {
            Some(RoutePolicy::Cloud)
        } else if self.auto {
            Some(RoutePolicy::Auto)
        } else {
            None
        }
    }
}

/// An answer as `--json` prints it.
#[derive(Serialize, Default)]
struct Answer {
    text: String,
    reasoning: String,
    tool_calls: Vec<llmaas_core::ToolCall>,
    summary: Option<Summary>,
}

pub async fn run(ctx: &Ctx, args: &ChatArgs) -> Result<Exit, CliError> {
    let (router, engine) = ctx.router_and_engine().await?;
    if !ctx.json {
        announce_loads(&engine);
    }
    let model = ModelId::new(
        args.model
            .clone()
            .unwrap_or_else(|| ctx.settings.models.chat.clone()),
    );
    let options = RequestOptions {
        policy: args.route.policy(),
        confidential: args.confidential,
        project: args.project.clone(),
        ..RequestOptions::default()
    };
    let mut messages = Vec::new();
    // The flag, else the settings' default for new conversations.
    if let Some(system) = args
        .system
        .as_ref()
        .or(ctx.settings.chat.system_prompt.as_ref())
    {
        messages.push(Message::system(system.clone()));
    }
    if args.interactive {
        return interactive(ctx, &router, &model, args, &options, messages).await;
    }
    let prompt = if args.prompt.is_empty() {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(CliError::io("reading the prompt from stdin"))?;
        text
    } else {
        args.prompt.join(" ")
    };
    if prompt.trim().is_empty() && args.image.is_empty() {
        return Err(CliError::Usage(
            "the message is empty: give it as an argument or on stdin".into(),
        ));
    }
    messages.push(with_images(Message::user(prompt.trim_end()), &args.image)?);
    let answer = turn(ctx, &router, &model, &messages, args, &options).await?;
    if ctx.json {
        output::json(&answer)?;
    }
    Ok(exit_of(answer.summary.as_ref()))
}

/// Tells the person at the terminal (stderr) when an answer waits for a
/// cold local model: converting, loading, then how long it took.
fn announce_loads(engine: &llmaas_local::LocalEngine) {
    use llmaas_local::LoadStage;
    let mut loads = engine.load_events();
    tokio::spawn(async move {
        let mut last = None;
        while loads.changed().await.is_ok() {
            let Some(p) = loads.borrow_and_update().clone() else {
                continue;
            };
            if last.replace(p.stage) == Some(p.stage) {
                continue;
            }
            match p.stage {
                LoadStage::Checking => {}
                LoadStage::Converting => {
                    eprintln!("converting {} for this CPU (once)…", p.model);
                }
                LoadStage::Loading => eprintln!("loading {}…", p.model),
                LoadStage::Ready => eprintln!(
                    "{} loaded in {}.{} s",
                    p.model,
                    p.elapsed_ms / 1000,
                    (p.elapsed_ms % 1000) / 100
                ),
            }
        }
    });
}

async fn interactive(
    ctx: &Ctx,
    router: &Router,
    model: &ModelId,
    args: &ChatArgs,
    options: &RequestOptions,
    mut messages: Vec<Message>,
) -> Result<Exit, CliError> {
    let tty = std::io::stdin().is_terminal();
    let mut images = Some(&args.image[..]);
    let mut lines = std::io::stdin().lock().lines();
    loop {
        if tty {
            eprint!("> ");
        }
        let Some(line) = lines.next() else { break };
        let line = line.map_err(CliError::io("reading stdin"))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/exit" || line == "/quit" {
            break;
        }
        // Images given on the command line go with the first message.
        messages.push(with_images(
            Message::user(line),
            images.take().unwrap_or_default(),
        )?);
        let answer = turn(ctx, router, model, &messages, args, options).await?;
        match answer.summary.as_ref().map(|s| s.status) {
            Some(RequestStatus::Done) => messages.push(Message::assistant(answer.text)),
            // A failed or stopped turn is forgotten, so the next one starts clean.
            _ => {
                messages.pop();
            }
        }
    }
    Ok(Exit::Ok)
}

/// Sends one turn and streams it (or collects it for `--json`).
async fn turn(
    ctx: &Ctx,
    router: &Router,
    model: &ModelId,
    messages: &[Message],
    args: &ChatArgs,
    options: &RequestOptions,
) -> Result<Answer, CliError> {
    let mut request = ChatRequest::new(model.clone(), messages.to_vec());
    let defaults = &ctx.settings.chat;
    request.max_tokens = args.max_tokens.or(defaults.max_tokens);
    request.temperature = args
        .temperature
        .or(defaults.temperature.map(llmaas_config::Temperature::as_f32));
    let mut handle = router.chat(request, options.clone()).await?;
    let stream = !ctx.json;
    let dim = std::io::stderr().is_terminal();
    let mut answer = Answer::default();
    let mut tools = llmaas_cloud::ToolCallAssembler::new();
    let mut out = std::io::stdout();
    let mut in_reasoning = false;
    loop {
        let event = tokio::select! {
            event = handle.next() => event,
            _ = tokio::signal::ctrl_c() => {
                handle.cancel();
                continue;
            }
        };
        let Some(event) = event else { break };
        match event {
            RouterEvent::Chat(ChatEvent::Text { text }) => {
                if stream {
                    if in_reasoning {
                        in_reasoning = false;
                        eprintln!("{}", if dim { "\x1b[0m" } else { "" });
                    }
                    write!(out, "{text}")
                        .and_then(|()| out.flush())
                        .or_else(ignore_pipe)?;
                }
                answer.text.push_str(&text);
            }
            RouterEvent::Chat(ChatEvent::Reasoning { text }) => {
                if stream && !args.hide_reasoning {
                    if !in_reasoning {
                        in_reasoning = true;
                        eprint!("{}", if dim { "\x1b[2m" } else { "[reasoning] " });
                    }
                    eprint!("{text}");
                }
                answer.reasoning.push_str(&text);
            }
            RouterEvent::Chat(event @ ChatEvent::ToolCall { .. }) => {
                tools.push_event(&event);
            }
            RouterEvent::Chat(_) => {}
            RouterEvent::Rerouted {
                route,
                reason,
                model,
            } => {
                if stream {
                    eprintln!("[rerouted to {route} ({model}): {reason}]");
                }
            }
            RouterEvent::Finished(summary) => answer.summary = Some(*summary),
        }
    }
    if in_reasoning && dim {
        eprint!("\x1b[0m");
    }
    answer.tool_calls = tools.finish();
    if stream {
        for call in &answer.tool_calls {
            writeln!(
                out,
                "[tool call {} {}({})]",
                call.id, call.name, call.arguments
            )
            .or_else(ignore_pipe)?;
        }
        if !answer.text.ends_with('\n') && !answer.text.is_empty() {
            writeln!(out).or_else(ignore_pipe)?;
        }
        if let Some(s) = &answer.summary {
            eprintln!("{}", summary_line(s));
        }
    }
    Ok(answer)
}

fn ignore_pipe(e: std::io::Error) -> Result<(), CliError> {
    output::ignore_broken_pipe(e)
}

/// `— cloud · gpt-oss:120b · auto: … · 12 in, 34 out tokens · 0.000293 € · first token 0.21 s`
pub fn summary_line(s: &Summary) -> String {
    let mut parts = vec![
        format!("— {}", s.route),
        s.model.to_string(),
        s.reason.to_string(),
    ];
    let reasoning = if s.usage.reasoning_tokens > 0 {
        format!(" ({} reasoning)", s.usage.reasoning_tokens)
    } else {
        String::new()
    };
    parts.push(format!(
        "{}{} in, {} out{reasoning} tokens",
        if s.estimated { "~" } else { "" },
        s.usage.input_tokens,
        s.usage.output_tokens
    ));
    parts.push(format!("{}", s.cost));
    if let Some(t) = s.ttft_ms {
        parts.push(format!("first token {}.{:02} s", t / 1000, (t % 1000) / 10));
    }
    if s.route == llmaas_core::Route::Local
        && let Some(tps) = s.decode_tokens_per_s()
    {
        parts.push(format!("{tps:.1} tokens/s"));
    }
    if s.status != RequestStatus::Done {
        parts.push(format!(
            "{}{}",
            s.status,
            s.error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
    }
    if let Some(d) = &s.budget
        && let llmaas_ledger::Verdict::Warn { threshold, .. } = d.verdict
    {
        parts.push(format!("budget: past {threshold} % of a limit"));
    }
    if !s.recorded {
        parts.push("NOT RECORDED in the ledger (see the log)".to_owned());
    }
    parts.join(" · ")
}

pub fn exit_of(summary: Option<&Summary>) -> Exit {
    match summary.map(|s| s.status) {
        Some(RequestStatus::Done) => Exit::Ok,
        Some(RequestStatus::Cancelled) => Exit::Interrupted,
        _ => Exit::Failure,
    }
}

fn with_images(mut message: Message, images: &[std::path::PathBuf]) -> Result<Message, CliError> {
    for path in images {
        message = message.with_image(data_url(path)?);
    }
    Ok(message)
}

/// Reads an image into a `data:` URL, checking that it is one.
fn data_url(path: &Path) -> Result<String, CliError> {
    let meta =
        std::fs::metadata(path).map_err(CliError::io(format!("reading {}", path.display())))?;
    if meta.len() > MAX_IMAGE_BYTES {
        return Err(CliError::Usage(format!(
            "{} is over 20 MiB; resize it first",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(CliError::io(format!("reading {}", path.display())))?;
    let mime = match bytes.as_slice() {
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "image/webp",
        [b'G', b'I', b'F', b'8', ..] => "image/gif",
        _ => {
            return Err(CliError::Usage(format!(
                "{} is not a PNG, JPEG, WebP or GIF image",
                path.display()
            )));
        }
    };
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    ))
}
