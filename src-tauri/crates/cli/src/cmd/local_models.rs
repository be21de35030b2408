//! `llmaas models --local`, `llmaas models --available`,
//! `llmaas models import FILE [--link]` and
//! `llmaas models pull NAME|URL [--sha256 HEX] [--name FILE.gguf]`.

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use llmaas_local::downloads::{Downloadable, Presence};
use llmaas_local::fetch::{self, ImportMode, Pull, PullKind, TransferProgress};
use llmaas_local::requant::{self, Target};
use llmaas_local::{LocalModel, Source, Status};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

/// A local model as `--json` prints it.
#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    path: &'a Path,
    size_bytes: u64,
    source: Source,
    usable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    architecture: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantisation: Option<&'a str>,
    /// What the weights run in: `quantisation`, or what a file with slow
    /// tensors is converted to at import or first load.
    #[serde(skip_serializing_if = "Option::is_none")]
    runs_as: Option<String>,
    /// About the memory its weights take once loaded (the context's cache
    /// comes on top).
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_bytes: Option<u64>,
    /// Where it would run (`cpu`, `cuda:0`), and with which CPU kernels.
    device: &'a str,
    kernels: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<u64>,
}

fn listed<'a>(m: &'a LocalModel, to: Target, device: &'a str) -> Listed<'a> {
    let info = m.info();
    Listed {
        id: m.id.as_str(),
        path: &m.path,
        size_bytes: m.size_bytes,
        source: m.source,
        usable: m.is_ready(),
        reason: match &m.status {
            Status::Unusable(r) => Some(r),
            Status::Ready(_) => None,
        },
        architecture: info.map(|i| i.architecture.as_str()),
        name: info.and_then(|i| i.name.as_deref()),
        quantisation: info.map(|i| i.quantisation.as_str()),
        runs_as: info.map(|i| requant::runs_as(i, to)),
        memory_bytes: info.map(|i| requant::memory_estimate(i, to)),
        device,
        kernels: llmaas_local::cpu_kernels(),
        parameters: info.map(|i| i.parameters),
        context: info.and_then(|i| i.context_length),
    }
}

/// Lists the local models, filtered by `search` (id or name contains it).
pub fn list(ctx: &Ctx, search: Option<&str>) -> Result<Exit, CliError> {
    let library = ctx.local_library();
    let models = library.models();
    let needle = search.map(str::to_lowercase);
    let to = llmaas_setup::convert_to(&ctx.settings);
    let force_cpu = llmaas_setup::engine_options(&ctx.paths, &ctx.settings, None).force_cpu;
    let device = llmaas_local::device_for(force_cpu);
    let shown: Vec<&LocalModel> = models
        .iter()
        .filter(|m| {
            needle.as_deref().is_none_or(|n| {
                m.id.as_str().contains(n)
                    || m.info()
                        .and_then(|i| i.name.as_deref())
                        .is_some_and(|name| name.to_lowercase().contains(n))
            })
        })
        .collect();
    if ctx.json {
        let rows: Vec<_> = shown.iter().map(|m| listed(m, to, &device)).collect();
        output::json(&rows)?;
        return Ok(Exit::Ok);
    }
    if shown.is_empty() {
        output::line(format_args!(
            "No local model. Put GGUF files in {} or use `llmaas models import FILE`.",
            library.folder().display()
        ))?;
        return Ok(Exit::Ok);
    }
    let mut t = output::table(&[
        "model",
        "architecture",
        "params",
        "quant",
        "context",
        "size",
        "memory",
        "status",
    ]);
    for m in &shown {
        let info = m.info();
        t.add_row(vec![
            m.id.to_string(),
            info.map(|i| i.architecture.clone()).unwrap_or_default(),
            info.map(llmaas_local::gguf::GgufInfo::parameters_label)
                .unwrap_or_default(),
            info.map(|i| quant_label(i, to)).unwrap_or_default(),
            info.and_then(|i| i.context_length)
                .map(output::thousands)
                .unwrap_or_default(),
            megabytes(m.size_bytes),
            info.map(|i| format!("~{}", megabytes(requant::memory_estimate(i, to))))
                .unwrap_or_default(),
            match (&m.status, m.source) {
                (Status::Ready(_), Source::Default) => "ready (embedded default)".to_owned(),
                (Status::Ready(_), Source::Folder) => "ready".to_owned(),
                (Status::Unusable(r), _) => format!("unusable: {r}"),
            },
        ]);
    }
    output::line(t)?;
    output::line(format_args!(
        "{} local models; folder {}; runs on {device} ({} kernels, {} threads)",
        shown.len(),
        library.folder().display(),
        llmaas_local::cpu_kernels(),
        llmaas_local::threads::in_use()
    ))?;
    Ok(Exit::Ok)
}

/// `Q8_0`, or `Q4_1 → Q8_0` for a file converted before it runs.
fn quant_label(info: &llmaas_local::gguf::GgufInfo, to: Target) -> String {
    let runs = requant::runs_as(info, to);
    if runs == info.quantisation {
        runs
    } else {
        format!("{} → {runs}", info.quantisation)
    }
}

fn megabytes(bytes: u64) -> String {
    if bytes == 0 {
        String::new()
    } else {
        format!("{} MB", output::thousands(bytes.div_ceil(1_000_000)))
    }
}

/// A progress bar on stderr when it is a terminal, nothing otherwise.
fn bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg}{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn update(bar: &ProgressBar, p: TransferProgress) {
    if p.converting && bar.message().is_empty() {
        // A file with slow tensors, converted once (see llmaas_local::requant).
        bar.set_message("converting ");
    }
    if let Some(total) = p.total {
        bar.set_length(total);
    }
    bar.set_position(p.done);
}

pub fn import(ctx: &Ctx, file: &Path, link: bool) -> Result<Exit, CliError> {
    let bar = bar();
    let mode = if link {
        ImportMode::Link
    } else {
        ImportMode::Copy
    };
    let to = llmaas_setup::convert_to(&ctx.settings);
    let path = fetch::import(file, &ctx.models_dir(), mode, to, &|p| update(&bar, p));
    bar.finish_and_clear();
    announce(ctx, &path?)
}

/// A listed model as `--json` prints it.
#[derive(Serialize)]
struct Available<'a> {
    #[serde(flatten)]
    model: &'a Downloadable,
    memory_bytes: u64,
    /// `here`, `partial` (an interrupted download) or `absent`.
    presence: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a Path>,
    /// Bytes already downloaded.
    downloaded_bytes: u64,
}

/// Lists the models `pull NAME` downloads, filtered by `search`.
pub fn available(ctx: &Ctx, search: Option<&str>) -> Result<Exit, CliError> {
    let list = llmaas_setup::download_list(&ctx.settings)?;
    let folder = ctx.models_dir();
    let to = llmaas_setup::convert_to(&ctx.settings);
    let needle = search.map(str::to_lowercase);
    let shown: Vec<(&Downloadable, Presence)> = list
        .models()
        .iter()
        .filter(|m| {
            needle.as_deref().is_none_or(|n| {
                [&m.name, &m.family, &m.editor, &m.description]
                    .iter()
                    .any(|f| f.to_lowercase().contains(n))
            })
        })
        .map(|m| (m, m.presence(&folder, to)))
        .collect();
    if ctx.json {
        let rows: Vec<_> = shown.iter().map(|(m, p)| available_row(m, p, to)).collect();
        output::json(&rows)?;
        return Ok(Exit::Ok);
    }
    let mut t = output::table(&[
        "name", "family", "params", "quant", "size", "memory", "context", "for", "here",
    ]);
    for (m, presence) in &shown {
        t.add_row(vec![
            m.name.clone(),
            m.family.clone(),
            m.parameters.clone(),
            m.quantisation.clone(),
            megabytes(m.size),
            format!("~{}", megabytes(m.memory_bytes(to))),
            output::thousands(u64::from(m.context)),
            m.stands_in_for.clone().unwrap_or_default(),
            match presence {
                Presence::Here(_) => "yes".to_owned(),
                Presence::Partial(have) => format!("{}% (resumes)", have * 100 / m.size.max(1)),
                Presence::Absent => String::new(),
            },
        ]);
    }
    output::line(t)?;
    output::line(format_args!(
        "{} models to download into {}: llmaas models pull NAME",
        shown.len(),
        folder.display()
    ))?;
    Ok(Exit::Ok)
}

fn available_row<'a>(m: &'a Downloadable, presence: &'a Presence, to: Target) -> Available<'a> {
    Available {
        model: m,
        memory_bytes: m.memory_bytes(to),
        presence: match presence {
            Presence::Here(_) => "here",
            Presence::Partial(_) => "partial",
            Presence::Absent => "absent",
        },
        path: match presence {
            Presence::Here(p) => Some(p),
            _ => None,
        },
        downloaded_bytes: match presence {
            Presence::Here(_) => m.size,
            Presence::Partial(n) => *n,
            Presence::Absent => 0,
        },
    }
}

/// What `pull NAME|URL` downloads: a listed model by name (its checksum and
/// size from the list), or the URL with what the flags say.
fn what_to_pull(
    ctx: &Ctx,
    url: &str,
    sha256: Option<&str>,
    name: Option<&str>,
    speech: bool,
) -> Result<Pull, CliError> {
    let convert_to = llmaas_setup::convert_to(&ctx.settings);
    if !url.contains("://") {
        let list = llmaas_setup::download_list(&ctx.settings)?;
        return match list.get(url) {
            Some(m) if !speech && sha256.is_none() && name.is_none() => Ok(m.pull(convert_to)),
            Some(_) => Err(CliError::Usage(
                "a listed model comes with its name, checksum and kind: pass no flags".into(),
            )),
            None => Err(CliError::Usage(format!(
                "no listed model `{url}` (see `llmaas models --available`: {}); or give a URL",
                list.names().join(", ")
            ))),
        };
    }
    Ok(Pull {
        url: url.to_owned(),
        file_name: name.map(str::to_owned),
        sha256: sha256.map(str::to_owned),
        size: None,
        stall_timeout: None,
        convert_to,
        kind: if speech {
            PullKind::Speech
        } else {
            PullKind::Chat
        },
    })
}

pub async fn pull(
    ctx: &Ctx,
    url: &str,
    sha256: Option<&str>,
    name: Option<&str>,
    speech: bool,
) -> Result<Exit, CliError> {
    let pull = what_to_pull(ctx, url, sha256, name, speech)?;
    let bar = bar();
    let path = fetch::get(&pull, &ctx.models_dir(), &|p| update(&bar, p)).await;
    bar.finish_and_clear();
    let path = path?;
    if !speech {
        return announce(ctx, &path);
    }
    if ctx.json {
        output::json(&serde_json::json!({ "path": path }))?;
    } else {
        output::line(format_args!(
            "{} is ready: llmaas config set models.local_speech {}",
            path.display(),
            path.display()
        ))?;
    }
    Ok(Exit::Ok)
}

fn announce(ctx: &Ctx, path: &Path) -> Result<Exit, CliError> {
    let id = llmaas_local::id_for_file(path)
        .map(|id| id.to_string())
        .unwrap_or_default();
    if ctx.json {
        output::json(&serde_json::json!({ "id": id, "path": path }))?;
    } else {
        output::line(format_args!(
            "{} is ready as `{id}`: llmaas chat --local -m {id}",
            path.display()
        ))?;
    }
    Ok(Exit::Ok)
}
