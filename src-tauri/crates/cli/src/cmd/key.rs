//! `llmaas key set|delete|status`: the API key goes into the keychain from
//! stdin and never comes back out of it here.

use std::io::{IsTerminal as _, Read as _};

use llmaas_config::secrets::{API_KEY, validate_api_key};
use llmaas_config::{KeychainStore, SecretStore as _};
use serde::Serialize;

use crate::args::KeyCommand;
use crate::context::Ctx;
use crate::error::{CliError, Exit};
use crate::output;

#[derive(Serialize)]
struct KeyStatus {
    stored: bool,
    store: &'static str,
}

pub fn run(ctx: &Ctx, command: &KeyCommand) -> Result<Exit, CliError> {
    let store = KeychainStore::open()?;
    match command {
        KeyCommand::Set => {
            let key = validate_api_key(&read_key()?)?;
            store.set(API_KEY, &key)?;
            tracing::info!("API key stored in the keychain");
            report(ctx, true, "API key stored in the OS keychain.")?;
            Ok(Exit::Ok)
        }
        KeyCommand::Delete => {
            let existed = store.delete(API_KEY)?;
            tracing::info!(existed, "API key deleted from the keychain");
            let msg = if existed {
                "API key deleted."
            } else {
                "No API key was stored."
            };
            report(ctx, false, msg)?;
            Ok(Exit::Ok)
        }
        KeyCommand::Status => {
            let stored = store.get(API_KEY)?.is_some();
            let msg = if stored {
                "An API key is stored in the OS keychain."
            } else {
                "No API key is stored. Run `llmaas key set` and paste it."
            };
            report(ctx, stored, msg)?;
            Ok(if stored { Exit::Ok } else { Exit::NotFound })
        }
    }
}

fn report(ctx: &Ctx, stored: bool, message: &str) -> Result<(), CliError> {
    if ctx.json {
        output::json(&KeyStatus {
            stored,
            store: "os-keychain",
        })
    } else {
        output::line(message)
    }
}

/// Reads the key from a pipe, or from the terminal without echo: never from
/// argv, where it would land in shell history and `ps`.
fn read_key() -> Result<String, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Paste your LLMaaS API key (input hidden), then Enter: ");
        return rpassword::read_password()
            .map_err(CliError::io("reading the key from the terminal"));
    }
    let mut text = String::new();
    // 64 KiB is far above any key; the bound stops `llmaas key set < /dev/zero`.
    stdin
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(CliError::io("reading the key from standard input"))?;
    Ok(text)
}
