//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use llmaas_core::Capability;

/// LLMaaS Desktop from a terminal: chat (cloud or local), OCR, meeting
/// transcription, the model catalogue and local model files, your spend and
/// limits, the API key and the settings.
///
/// Exit codes: 0 success; 1 failure; 2 bad usage or value (an unreadable
/// recording, a file that is not a model); 3 not found (an unknown model, no
/// key set, no local model, no such token); 4 keychain unavailable; 5 a tier
/// limit is reached (`limits`, or a request the budget guard refused); 130
/// interrupted (Ctrl-C).
#[derive(Debug, Parser)]
#[command(name = "llmaas", version, max_term_width = 100)]
pub struct Cli {
    /// Print JSON instead of tables (stable field names, for scripts).
    #[arg(long, global = true)]
    pub json: bool,

    /// Log to stderr too (the filter comes from LLMAAS_LOG, default info).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Chat with a model: streams the answer, then its route, tokens and cost.
    Chat(ChatArgs),
    /// Embed texts (arguments, or one per line on stdin).
    Embed(EmbedArgs),
    /// Read documents (images, PDFs) with DeepSeek-OCR: markdown, text or JSON.
    Ocr(OcrArgs),
    /// Transcribe recordings: TXT, SRT, VTT, JSON or DOCX beside each (or in --out).
    Transcribe(TranscribeArgs),
    /// Transcribe every recording dropped into a folder, until Ctrl-C.
    Watch(WatchArgs),
    /// List and search the model catalogue.
    Models(ModelsArgs),
    /// Update the catalogue from the provider's published files.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// What you spent: the month's total, a breakdown, a forecast.
    Spend(SpendArgs),
    /// Where you stand against your tier's limits.
    Limits,
    /// The provider API key, kept in the OS keychain.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Read and change settings.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The local API's callers: one bearer token each.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Serve the local OpenAI-compatible API (routed and metered) until Ctrl-C.
    Serve(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print it (once: only its hash is kept).
    Create {
        /// Who or what uses it (letters, digits, `-`, `_`, `.`).
        name: String,
        /// Project tag written on this caller's ledger rows.
        #[arg(long)]
        project: Option<String>,
        /// This caller's own monthly cap, in euros (e.g. 25 or 12.50).
        #[arg(long, value_name = "EUR")]
        cap: Option<llmaas_core::Money>,
        /// Route policy for this caller (default: the `routing.policy` setting).
        #[arg(long)]
        policy: Option<llmaas_core::RoutePolicy>,
    },
    /// Every token with this month's spend; never the tokens themselves.
    List,
    /// Revoke a token: its next request gets a 401 (exit 3 if there is none).
    Revoke { name: String },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port (0: any free port, printed at start).
    #[arg(long, default_value_t = llmaas_gateway::DEFAULT_PORT)]
    pub port: u16,

    /// The address to listen on: 127.0.0.1 (this machine only, the default),
    /// or an address the team can reach (use TLS then). `ADDR:PORT` also works.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: String,

    /// PEM certificate chain for HTTPS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for HTTPS (with --tls-cert).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Allow browser calls from this origin (repeatable); no CORS without it.
    #[arg(long, value_name = "ORIGIN")]
    pub cors: Vec<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
// Each bool is a flag of its own, and clap says which conflict.
#[allow(clippy::struct_excessive_bools)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: Option<ModelsCommand>,

    /// Only models with this capability (repeat for several; all must match).
    #[arg(long, short = 'c', value_name = "CAPABILITY")]
    pub capability: Vec<Capability>,

    /// Only models whose id, family, editor, tags or description contain this text.
    #[arg(long, short = 's', value_name = "TEXT")]
    pub search: Option<String>,

    /// Include models the provider has retired.
    #[arg(long)]
    pub all: bool,

    /// Only models whose end of support falls within this many days.
    #[arg(long, value_name = "DAYS")]
    pub retiring_within: Option<u32>,

    /// Ask the provider which models it serves now, and compare with the catalogue.
    #[arg(long, conflicts_with_all = ["capability", "search", "all", "retiring_within"])]
    pub live: bool,

    /// The local model files instead: the models folder and the embedded
    /// default, with architecture, size, quantisation, context, or why one is unusable.
    #[arg(long, conflicts_with_all = ["capability", "all", "retiring_within", "live"])]
    pub local: bool,

    /// The local models to download in one click (`llmaas models pull NAME`):
    /// size, quantisation, memory needed, the cloud model each stands in
    /// for, and whether it is here.
    #[arg(long, conflicts_with_all = ["capability", "all", "retiring_within", "live", "local"])]
    pub available: bool,
}

/// Where a request may run, overriding the `routing.policy` setting.
#[derive(Debug, Args, Default)]
#[group(multiple = false)]
pub struct RouteFlags {
    /// Run on this machine.
    #[arg(long)]
    pub local: bool,
    /// Run in the cloud.
    #[arg(long)]
    pub cloud: bool,
    /// The cloud when it can, this machine when it cannot.
    #[arg(long)]
    pub auto: bool,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The model (default: the `models.chat` setting).
    #[arg(short, long)]
    pub model: Option<String>,

    #[command(flatten)]
    pub route: RouteFlags,

    /// Never send this to the cloud: run locally or not at all.
    #[arg(long)]
    pub confidential: bool,

    /// A system prompt.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,

    /// Attach an image (PNG, JPEG, WebP, GIF) for a vision model; repeatable.
    #[arg(long, value_name = "FILE")]
    pub image: Vec<PathBuf>,

    /// Output cap (the provider's default is 1024).
    #[arg(long)]
    pub max_tokens: Option<u32>,

    /// Sampling temperature, 0 to 2.
    #[arg(long)]
    pub temperature: Option<f32>,

    /// Do not show the model's reasoning.
    #[arg(long)]
    pub hide_reasoning: bool,

    /// Project tag for the ledger (default: the `budget.project` setting).
    #[arg(long)]
    pub project: Option<String>,

    /// An interactive session: one message per line, `/exit` or end of input to stop.
    #[arg(short, long, conflicts_with = "json")]
    pub interactive: bool,

    /// The message; read from stdin when absent.
    pub prompt: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// The embedding model (default: the `models.embedding` setting).
    #[arg(short, long)]
    pub model: Option<String>,

    #[command(flatten)]
    pub route: RouteFlags,

    /// Project tag for the ledger.
    #[arg(long)]
    pub project: Option<String>,

    /// Texts to embed; one per line on stdin when absent.
    pub texts: Vec<String>,
}

/// What `llmaas ocr` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OcrFormat {
    /// One markdown document, `<!-- page N -->` before each page.
    Md,
    /// Plain text, pages separated by form feeds.
    Txt,
    /// Per-page text, status, cost and route.
    Json,
}

#[derive(Debug, Args)]
pub struct OcrArgs {
    /// Images (PNG, JPEG, TIFF, WebP) or PDFs, recognised by content.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// What to produce: markdown, table, text, figure or latex.
    #[arg(long, default_value = "markdown")]
    pub mode: llmaas_ocr::Mode,

    /// Pages to read, e.g. `1-3,7` or `5-` (default: all).
    #[arg(long, value_name = "PAGES")]
    pub pages: Option<llmaas_ocr::PageSelection>,

    /// Read every page of a document longer than `budget.ocr_ask_over_pages`
    /// (50 by default) without stopping to say how many pages and what they
    /// may cost.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Resolution PDF pages are rendered at (pages are capped at 2048 px).
    #[arg(long, default_value_t = llmaas_ocr::DEFAULT_DPI,
          value_parser = clap::value_parser!(u32).range(72..=300))]
    pub dpi: u32,

    /// Pages sent at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=4))]
    pub parallel: u8,

    /// The model (default: deepseek-ocr).
    #[arg(short, long)]
    pub model: Option<String>,

    #[command(flatten)]
    pub route: RouteFlags,

    /// Never send these documents to the cloud: read them locally or not at all.
    #[arg(long)]
    pub confidential: bool,

    /// Project tag for the ledger (default: the `budget.project` setting).
    #[arg(long)]
    pub project: Option<String>,

    /// Write one file per input into this folder (`NAME.md`, `.txt` or
    /// `.json`) instead of standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Output format (`--json` means `--format json`).
    #[arg(long, value_enum, default_value = "md")]
    pub format: OcrFormat,
}

/// How recordings are transcribed (`transcribe` and `watch`).
#[derive(Debug, Args)]
pub struct SpeechArgs {
    #[command(flatten)]
    pub route: RouteFlags,

    /// Never send the audio to the cloud: transcribe locally or not at all.
    #[arg(long)]
    pub confidential: bool,

    /// The spoken language, ISO 639-1 (`fr`); detected when absent. An
    /// English-only local model (whisper-tiny.en) takes only `en`.
    #[arg(short, long, value_name = "CODE")]
    pub language: Option<String>,

    /// Transcripts to write, comma-separated: txt, srt, vtt, json, docx
    /// (default: txt; with --json and no --format, none: the JSON is printed).
    #[arg(long, value_delimiter = ',', value_name = "FORMATS")]
    pub format: Vec<llmaas_transcribe::Format>,

    /// A local speech model (whisper-tiny.en, whisper-base: runs locally),
    /// or the cloud's model (default: the `models.transcription` setting).
    #[arg(short, long)]
    pub model: Option<String>,

    /// Project tag for the ledger (default: the `budget.project` setting).
    #[arg(long)]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// Recordings: wav, mp3, m4a, aac, ogg, flac, opus, or the sound of a
    /// webm, mp4, mov or mkv video.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub speech: SpeechArgs,

    /// Write the transcripts into this folder (`NAME.srt`…) instead of beside each input.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The folder: each recording that lands in it is transcribed once, its
    /// transcripts written beside it (`.llmaas-transcribed.json` remembers
    /// which are done).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    #[command(flatten)]
    pub speech: SpeechArgs,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Everything about one model: capabilities, lifecycle, successor.
    Show {
        /// A model id or alias.
        id: String,
    },
    /// Copy (or link) a GGUF file into the models folder.
    Import {
        /// The GGUF file.
        file: PathBuf,
        /// Link to the file instead of copying it (it must then stay where it is).
        #[arg(long)]
        link: bool,
    },
    /// Download a listed model (`llmaas models --available`), a GGUF chat
    /// model from its URL, or with --speech a whisper.cpp ggml model, into
    /// the models folder; an interrupted download resumes.
    Pull {
        /// The name of a listed model, or a file's URL.
        #[arg(value_name = "NAME|URL")]
        url: String,
        /// The expected sha256, checked before the file is kept.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
        /// The name to give the file (default: the URL's last segment).
        #[arg(long, value_name = "FILE")]
        name: Option<String>,
        /// A whisper.cpp speech model (ggml-*.bin, e.g. the official
        /// ggml-base.bin) instead of a GGUF chat model.
        #[arg(long)]
        speech: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Merge provider files (models_config YAML or catalogue CSV) into a catalogue.
    ///
    /// Without --into, the result becomes your own catalogue in the app's data
    /// folder, used instead of the one built in. Developers regenerate the
    /// bundled one with `--into models/catalog.toml`.
    Import {
        /// Provider files, applied in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The catalogue file to update (created from the built-in one if absent).
        #[arg(long, value_name = "FILE")]
        into: Option<PathBuf>,
        /// The snapshot date of the files (YYYY-MM or YYYY-MM-DD), when their
        /// names do not carry it: it decides which file wins a disagreement.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// Where the catalogue in use comes from.
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpendBy {
    Model,
    Day,
    Project,
}

#[derive(Debug, Args)]
pub struct SpendArgs {
    /// The calendar month, YYYY-MM (default: this month, in local time).
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,

    /// Break the month down.
    #[arg(long, value_enum)]
    pub by: Option<SpendBy>,

    /// Write CSV to stdout: the breakdown with --by, else one line per request.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Store the API key, read from standard input (never from the command line).
    Set,
    /// Remove the stored key.
    Delete,
    /// Whether a key is stored (exit 0) or not (exit 3). Never prints the key.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print one setting.
    Get { key: String },
    /// Change one setting (an empty value unsets an optional one).
    Set { key: String, value: String },
    /// Every setting with its value and meaning.
    List,
    /// Where the settings file, the ledger and the logs are.
    Path,
}
