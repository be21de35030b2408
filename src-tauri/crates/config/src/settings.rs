//! The user's settings: one TOML file in the platform config dir.
//!
//! Every field has a default, so a missing file is a fresh install, not an
//! error. Unknown keys are refused (a typo must not silently do nothing) and a
//! malformed file is reported with its line. The API key is never here: it
//! lives in the keychain (see [`crate::secrets`]).

// Functions here stay short enough to read.
#![warn(clippy::too_many_lines)]

use std::fs;
use std::path::{Path, PathBuf};

use llmaas_core::{Money, OverBudget, RoutePolicy, Tier};
use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// The provider's documented endpoint (FACTS.md); the path includes `/v1`.
pub const DEFAULT_BASE_URL: &str = "https://api.ai.cloud-temple.com/v1";

/// How to reach the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudSettings {
    pub base_url: String,
    pub tier: Tier,
}

impl Default for CloudSettings {
    fn default() -> Self {
        CloudSettings {
            base_url: DEFAULT_BASE_URL.to_owned(),
            tier: Tier::One,
        }
    }
}

/// Where requests go (DESIGN.md, "Routing rules").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingSettings {
    pub policy: RoutePolicy,
    pub over_budget: OverBudget,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            policy: RoutePolicy::Auto,
            over_budget: OverBudget::Refuse,
        }
    }
}

/// The models used when a request names none, and where local files live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    pub chat: String,
    pub ocr: String,
    pub transcription: String,
    pub embedding: String,
    /// The local chat model a request runs on when its own model is a cloud
    /// one and the route is local (the embedded default unless changed).
    pub local_chat: String,
    /// The local speech model: a provisioned one (`whisper-tiny.en`,
    /// `whisper-base`) or the path of a whisper.cpp ggml file.
    pub local_speech: String,
    /// Folder of local model files; the platform data dir's `models/` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<PathBuf>,
    /// What local files whose tensors the engine runs slowly (Q4_1, Q5_0,
    /// Q5_1) are converted to, once, at import, download or first load.
    pub convert_to: ConvertTo,
    /// A list of downloadable local models used instead of the built-in one
    /// (an organisation's vetted list; the format of `models/local/downloads.toml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_list: Option<PathBuf>,
}

/// The quantisation slow local model files are converted to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConvertTo {
    /// Next to lossless from 4- and 5-bit types; about 1.7× a Q4_1 file.
    #[default]
    #[serde(rename = "q8_0")]
    Q8_0,
    /// The smallest (a little smaller than Q4_1), with some loss.
    #[serde(rename = "q4_0")]
    Q4_0,
}

impl ConvertTo {
    pub fn as_str(self) -> &'static str {
        match self {
            ConvertTo::Q8_0 => "q8_0",
            ConvertTo::Q4_0 => "q4_0",
        }
    }
}

impl std::str::FromStr for ConvertTo {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "q8_0" => Ok(ConvertTo::Q8_0),
            "q4_0" => Ok(ConvertTo::Q4_0),
            other => Err(format!("`{other}` is not q8_0 or q4_0")),
        }
    }
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            // LTS until the end of 2027 in the 2026-05 catalogue.
            chat: "gpt-oss:120b".to_owned(),
            ocr: "deepseek-ocr".to_owned(),
            // The name the provider's own examples send to /audio/transcriptions.
            transcription: "whisper-1".to_owned(),
            embedding: "granite-embedding:278m".to_owned(),
            // The embedded default (models/local/manifest.toml).
            local_chat: "smollm2-135m-instruct".to_owned(),
            // English only and fast; `whisper-base` for other languages.
            local_speech: "whisper-tiny.en".to_owned(),
            folder: None,
            convert_to: ConvertTo::Q8_0,
            download_list: None,
        }
    }
}

/// The user's own limits, tighter (or looser, for a negotiated contract) than the tier's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetSettings {
    /// Monthly € limit, as a decimal string (`"250"`, `"99.50"`): money is never a float.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_limit_eur: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_hour: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_day: Option<u64>,
    /// Project tag written on every ledger row when a request names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// OCR of more pages than this asks first (window) or needs `--pages`
    /// or `--yes` (CLI), with the page count and what it may cost; 50 when
    /// unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr_ask_over_pages: Option<u32>,
}

impl BudgetSettings {
    /// The monthly limit override as money.
    pub fn monthly_limit(&self) -> Result<Option<Money>, ConfigError> {
        self.monthly_limit_eur
            .as_deref()
            .map(|s| {
                s.parse::<Money>().map_err(|e| ConfigError::InvalidValue {
                    key: "budget.monthly_limit_eur".into(),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// Pages an OCR job may read without asking.
    pub fn ocr_ask_over_pages(&self) -> usize {
        self.ocr_ask_over_pages.map_or(50, |n| n as usize)
    }
}

/// Privacy and interface preferences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiSettings {
    /// Keep chat history on disk. Off means nothing of a conversation is written.
    pub history: bool,
    /// `fr` or `en`; the system's language when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// A folder whose new recordings the window transcribes on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hot_folder: Option<PathBuf>,
    /// The hot folder's recordings are confidential: never uploaded.
    pub hot_folder_confidential: bool,
}

/// A sampling temperature, 0 to 2 in hundredths: the range the provider
/// accepts, and an integer so that settings compare exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Temperature(u16);

impl Temperature {
    pub const MAX_HUNDREDTHS: u16 = 200;

    pub fn as_f32(self) -> f32 {
        f32::from(self.0) / 100.0
    }
}

impl TryFrom<f64> for Temperature {
    type Error = String;

    fn try_from(v: f64) -> Result<Temperature, String> {
        let hundredths = (v * 100.0).round();
        if !(0.0..=f64::from(Temperature::MAX_HUNDREDTHS)).contains(&hundredths) {
            return Err(format!("`{v}` is not a temperature from 0 to 2"));
        }
        // In range, checked above: the cast neither truncates nor wraps.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(Temperature(hundredths as u16))
    }
}

impl From<Temperature> for f64 {
    fn from(t: Temperature) -> f64 {
        f64::from(t.0) / 100.0
    }
}

impl std::str::FromStr for Temperature {
    type Err = String;

    fn from_str(s: &str) -> Result<Temperature, String> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number"))?;
        Temperature::try_from(v)
    }
}

impl std::fmt::Display for Temperature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", f64::from(*self))
    }
}

/// The longest system prompt kept in settings: a page of instructions, not a
/// document (documents go in the conversation).
pub const MAX_SYSTEM_PROMPT_CHARS: usize = 16_000;

/// What a new conversation starts with, in the window and in `llmaas chat`
/// (whose flags win). Unset means the model's own defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<Temperature>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

/// Everything in `settings.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub cloud: CloudSettings,
    pub routing: RoutingSettings,
    pub models: ModelSettings,
    pub budget: BudgetSettings,
    pub chat: ChatSettings,
    pub ui: UiSettings,
}

/// Every key `get` and `set` know, with what it means: the CLI prints this list.
pub const KEYS: &[(&str, &str)] = &[
    (
        "cloud.base_url",
        "the provider's API base URL, including /v1",
    ),
    ("cloud.tier", "your tier: 1, 2, 3, 4 or monthly"),
    ("routing.policy", "cloud, local or auto"),
    (
        "routing.over_budget",
        "when the budget guard refuses: refuse or local",
    ),
    ("models.chat", "default chat model"),
    ("models.ocr", "default OCR model"),
    ("models.transcription", "default transcription model"),
    ("models.embedding", "default embedding model"),
    ("models.local_chat", "local chat model for local routes"),
    (
        "models.local_speech",
        "local speech model (id or ggml file)",
    ),
    ("models.folder", "folder of local model files"),
    (
        "models.convert_to",
        "Q4_1/Q5 local files are converted to: q8_0 (default) or q4_0",
    ),
    (
        "models.download_list",
        "a list of downloadable models replacing the built-in one",
    ),
    (
        "budget.monthly_limit_eur",
        "your own monthly € limit (decimal)",
    ),
    (
        "budget.output_tokens_per_hour",
        "your own output tokens per hour cap",
    ),
    (
        "budget.output_tokens_per_day",
        "your own output tokens per day cap",
    ),
    ("budget.project", "default project tag for cost allocation"),
    (
        "budget.ocr_ask_over_pages",
        "OCR of more pages than this asks first (default 50)",
    ),
    (
        "chat.system_prompt",
        "the system prompt new conversations start with",
    ),
    (
        "chat.temperature",
        "new conversations' temperature, 0 to 2 (unset: the model's)",
    ),
    (
        "chat.max_tokens",
        "new conversations' longest answer in tokens (unset: the model's)",
    ),
    ("ui.history", "keep chat history on disk: true or false"),
    ("ui.language", "fr or en"),
    (
        "ui.hot_folder",
        "folder the window transcribes new recordings from",
    ),
    (
        "ui.hot_folder_confidential",
        "the hot folder's recordings never leave this machine: true or false",
    ),
];

impl Settings {
    /// Reads the file, or the defaults when it does not exist.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        match fs::read_to_string(path) {
            Ok(text) => Settings::from_toml(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(source) => Err(ConfigError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Parses settings text; `path` only names the file in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Settings, ConfigError> {
        let settings: Settings = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|span| llmaas_core::line_at(text, span.start));
            ConfigError::Malformed {
                path: path.to_owned(),
                line,
                message: e.message().to_owned(),
            }
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Writes the file atomically (a temporary file renamed over the old one),
    /// so a crash mid-write never leaves half a settings file.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        self.validate()?;
        let io = |source| ConfigError::Io {
            path: path.to_owned(),
            source,
        };
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        fs::create_dir_all(dir).map_err(io)?;
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::InvalidValue {
            key: "settings".into(),
            reason: e.to_string(),
        })?;
        let mut bytes =
            b"# LLMaaS Desktop settings. The API key is not here: it is in the OS keychain.\n"
                .to_vec();
        bytes.extend_from_slice(text.as_bytes());
        llmaas_files::write_atomic(path, &bytes).map_err(io)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        llmaas_core::check_base_url(&self.cloud.base_url).map_err(|reason| {
            ConfigError::InvalidValue {
                key: "cloud.base_url".into(),
                reason,
            }
        })?;
        self.budget.monthly_limit()?;
        if let Some(prompt) = &self.chat.system_prompt
            && prompt.chars().count() > MAX_SYSTEM_PROMPT_CHARS
        {
            return Err(ConfigError::InvalidValue {
                key: "chat.system_prompt".into(),
                reason: format!("over {MAX_SYSTEM_PROMPT_CHARS} characters"),
            });
        }
        if self.chat.max_tokens == Some(0) {
            return Err(ConfigError::InvalidValue {
                key: "chat.max_tokens".into(),
                reason: "at least 1 token".into(),
            });
        }
        if let Some(lang) = &self.ui.language
            && !matches!(lang.as_str(), "fr" | "en")
        {
            return Err(ConfigError::InvalidValue {
                key: "ui.language".into(),
                reason: format!("`{lang}` is not a supported language (fr, en)"),
            });
        }
        Ok(())
    }

    /// The value of a dotted key as text, or `None` when it is unset.
    pub fn get(&self, key: &str) -> Result<Option<String>, ConfigError> {
        let s = |v: &str| Some(v.to_owned());
        Ok(match key {
            "cloud.base_url" => s(&self.cloud.base_url),
            "cloud.tier" => s(self.cloud.tier.as_str()),
            "routing.policy" => s(self.routing.policy.as_str()),
            "routing.over_budget" => s(self.routing.over_budget.as_str()),
            "models.chat" => s(&self.models.chat),
            "models.ocr" => s(&self.models.ocr),
            "models.transcription" => s(&self.models.transcription),
            "models.embedding" => s(&self.models.embedding),
            "models.local_chat" => s(&self.models.local_chat),
            "models.local_speech" => s(&self.models.local_speech),
            "models.folder" => self.models.folder.as_ref().map(|p| p.display().to_string()),
            "models.convert_to" => s(self.models.convert_to.as_str()),
            "models.download_list" => self
                .models
                .download_list
                .as_ref()
                .map(|p| p.display().to_string()),
            "budget.monthly_limit_eur" => self.budget.monthly_limit_eur.clone(),
            "budget.output_tokens_per_hour" => {
                self.budget.output_tokens_per_hour.map(|n| n.to_string())
            }
            "budget.output_tokens_per_day" => {
                self.budget.output_tokens_per_day.map(|n| n.to_string())
            }
            "budget.project" => self.budget.project.clone(),
            "budget.ocr_ask_over_pages" => self.budget.ocr_ask_over_pages.map(|n| n.to_string()),
            "chat.system_prompt" => self.chat.system_prompt.clone(),
            "chat.temperature" => self.chat.temperature.map(|t| t.to_string()),
            "chat.max_tokens" => self.chat.max_tokens.map(|n| n.to_string()),
            "ui.history" => Some(self.ui.history.to_string()),
            "ui.language" => self.ui.language.clone(),
            "ui.hot_folder" => self.ui.hot_folder.as_ref().map(|p| p.display().to_string()),
            "ui.hot_folder_confidential" => Some(self.ui.hot_folder_confidential.to_string()),
            _ => return Err(ConfigError::UnknownKey(key.to_owned())),
        })
    }

    /// Sets a dotted key from text, checking the value; an empty value unsets
    /// the optional keys.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidValue {
            key: key.to_owned(),
            reason,
        };
        let value = value.trim();
        let opt = || (!value.is_empty()).then(|| value.to_owned());
        let count = || -> Result<Option<u64>, ConfigError> {
            opt()
                .map(|v| v.replace(['_', ','], "").parse::<u64>())
                .transpose()
                .map_err(|_| invalid(format!("`{value}` is not a whole number")))
        };
        let name = || -> Result<String, ConfigError> {
            opt().ok_or_else(|| invalid("a model id is required".into()))
        };
        match key {
            "cloud.base_url" => value
                .trim_end_matches('/')
                .clone_into(&mut self.cloud.base_url),
            "cloud.tier" => {
                self.cloud.tier = value
                    .parse()
                    .map_err(|e: llmaas_core::ParseNameError| invalid(e.to_string()))?;
            }
            "routing.policy" => {
                self.routing.policy = value
                    .parse()
                    .map_err(|e: llmaas_core::ParseNameError| invalid(e.to_string()))?;
            }
            "routing.over_budget" => {
                self.routing.over_budget = value
                    .parse()
                    .map_err(|e: llmaas_core::ParseNameError| invalid(e.to_string()))?;
            }
            "models.chat" => self.models.chat = name()?,
            "models.ocr" => self.models.ocr = name()?,
            "models.transcription" => self.models.transcription = name()?,
            "models.embedding" => self.models.embedding = name()?,
            "models.local_chat" => self.models.local_chat = name()?,
            "models.local_speech" => self.models.local_speech = name()?,
            "models.folder" => self.models.folder = opt().map(PathBuf::from),
            "models.convert_to" => self.models.convert_to = value.parse().map_err(invalid)?,
            "models.download_list" => self.models.download_list = opt().map(PathBuf::from),
            "budget.monthly_limit_eur" => self.budget.monthly_limit_eur = opt(),
            "budget.output_tokens_per_hour" => self.budget.output_tokens_per_hour = count()?,
            "budget.output_tokens_per_day" => self.budget.output_tokens_per_day = count()?,
            "budget.project" => self.budget.project = opt(),
            "budget.ocr_ask_over_pages" => {
                self.budget.ocr_ask_over_pages = count()?
                    .map(|n| u32::try_from(n).map_err(|_| invalid("too large".into())))
                    .transpose()?;
            }
            "chat.system_prompt" => self.chat.system_prompt = opt(),
            "chat.temperature" => {
                self.chat.temperature = opt().map(|v| v.parse()).transpose().map_err(invalid)?;
            }
            "chat.max_tokens" => {
                self.chat.max_tokens = count()?
                    .map(|n| match u32::try_from(n) {
                        Ok(0) => Err(invalid("at least 1 token".into())),
                        Ok(n) => Ok(n),
                        Err(_) => Err(invalid("too large".into())),
                    })
                    .transpose()?;
            }
            "ui.history" => {
                self.ui.history = value
                    .parse()
                    .map_err(|_| invalid("expected true or false".into()))?;
            }
            "ui.hot_folder_confidential" => {
                self.ui.hot_folder_confidential = value
                    .parse()
                    .map_err(|_| invalid("expected true or false".into()))?;
            }
            "ui.language" => self.ui.language = opt(),
            "ui.hot_folder" => self.ui.hot_folder = opt().map(PathBuf::from),
            _ => return Err(ConfigError::UnknownKey(key.to_owned())),
        }
        self.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(&dir.path().join("nope.toml")).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.cloud.base_url, DEFAULT_BASE_URL);
        assert_eq!(s.routing.policy, RoutePolicy::Auto);
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/settings.toml");
        let mut s = Settings::default();
        for (k, v) in [
            ("cloud.tier", "3"),
            ("routing.policy", "local"),
            ("routing.over_budget", "local"),
            ("budget.monthly_limit_eur", "99.50"),
            ("budget.output_tokens_per_hour", "10_000"),
            ("models.folder", "/data/gguf"),
            ("ui.history", "true"),
            ("ui.language", "fr"),
            ("ui.hot_folder", "/data/meetings"),
            ("ui.hot_folder_confidential", "true"),
            ("chat.system_prompt", "Answer in French, briefly."),
            ("chat.temperature", "0.7"),
            ("chat.max_tokens", "2_000"),
        ] {
            s.set(k, v).unwrap();
        }
        s.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("temperature = 0.7"), "{text}");
        let back = Settings::load(&path).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.get("cloud.tier").unwrap().as_deref(), Some("tier-3"));
        assert_eq!(
            back.budget.monthly_limit().unwrap(),
            Some("99.5".parse().unwrap())
        );
        assert_eq!(
            back.get("budget.output_tokens_per_hour")
                .unwrap()
                .as_deref(),
            Some("10000")
        );
        assert!(!path.with_extension("toml.tmp").exists());
    }

    #[test]
    fn every_listed_key_can_be_read() {
        let s = Settings::default();
        for (key, _) in KEYS {
            s.get(key).unwrap();
        }
        assert!(matches!(
            s.get("cloud.nope"),
            Err(ConfigError::UnknownKey(_))
        ));
    }

    #[test]
    fn bad_values_are_refused_and_change_nothing_on_disk() {
        let mut s = Settings::default();
        let long_prompt = "x".repeat(MAX_SYSTEM_PROMPT_CHARS + 1);
        for (k, v) in [
            ("cloud.tier", "7"),
            ("routing.policy", "sometimes"),
            ("cloud.base_url", "ftp://x"),
            // The key would travel in clear to another machine.
            ("cloud.base_url", "http://hub.lan/v1"),
            ("budget.monthly_limit_eur", "12,5"),
            ("budget.output_tokens_per_day", "lots"),
            ("ui.history", "maybe"),
            ("ui.language", "de"),
            ("models.chat", ""),
            ("chat.temperature", "2.5"),
            ("chat.temperature", "-0.1"),
            ("chat.temperature", "warm"),
            ("chat.max_tokens", "0"),
            ("chat.system_prompt", &long_prompt),
            ("no.such", "1"),
        ] {
            let mut copy = s.clone();
            let err = copy.set(k, v).unwrap_err();
            assert!(
                err.to_string().contains(k.split('.').next().unwrap())
                    || matches!(err, ConfigError::UnknownKey(_)),
                "{k}: {err}"
            );
        }
        s.set("budget.project", "").unwrap();
        assert_eq!(s.budget.project, None);
    }

    #[test]
    fn temperatures_are_hundredths_from_0_to_2() {
        let t: Temperature = "0.7".parse().unwrap();
        assert!((t.as_f32() - 0.7).abs() < 1e-6);
        assert_eq!(t.to_string(), "0.7");
        assert_eq!("2".parse::<Temperature>().unwrap(), Temperature(200));
        assert_eq!("0".parse::<Temperature>().unwrap(), Temperature(0));
        assert_eq!("0.704".parse::<Temperature>().unwrap(), Temperature(70));
        for bad in ["2.01", "-1", "NaN", "inf", ""] {
            assert!(bad.parse::<Temperature>().is_err(), "{bad}");
        }
        let path = Path::new("settings.toml");
        let err = Settings::from_toml("[chat]\ntemperature = 3.0\n", path).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn malformed_file_names_its_line() {
        let path = Path::new("settings.toml");
        let err = Settings::from_toml(
            "[cloud]\ntier = \"tier-2\"\n\n[routing]\npolicy = 42\n",
            path,
        )
        .unwrap_err();
        assert!(
            matches!(err, ConfigError::Malformed { line: Some(5), .. }),
            "{err}"
        );
        assert!(err.to_string().contains("line 5"), "{err}");
        let err = Settings::from_toml("[cloud]\nbase_urll = \"https://x/v1\"\n", path).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = Settings::from_toml("[cloud\n", path).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
