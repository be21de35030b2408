//! Where the window may go: nowhere but the app.
//!
//! Answers are markdown from a model, so their links are whatever a model
//! (or a document it read) wrote. A click must never turn the window, which
//! holds the IPC bridge to every command, into someone else's page: a
//! navigation away from the app is refused, a new window is refused, and an
//! http(s) or mailto link opens in the system's browser instead. Anything
//! else (file:, javascript:, custom schemes) goes nowhere.

use tauri::Url;

/// What to do with a navigation or a new-window request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Navigation {
    /// The app's own pages (bundled assets, or the dev server in `tauri dev`).
    Stay,
    /// A web or mail link: refused here, opened by the system.
    External(String),
    /// Refused outright.
    Refuse,
}

/// The one rule, for both hooks.
pub fn decide(url: &Url, dev_server: Option<&Url>) -> Navigation {
    let app_page = match url.scheme() {
        // Linux and macOS serve the bundle on tauri://localhost, Windows on
        // http(s)://tauri.localhost.
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" if url.host_str() == Some("tauri.localhost") => true,
        "http" | "https" => dev_server.is_some_and(|dev| same_origin(url, dev)),
        _ => false,
    };
    if app_page {
        return Navigation::Stay;
    }
    match url.scheme() {
        "http" | "https" | "mailto" => Navigation::External(url.to_string()),
        _ => Navigation::Refuse,
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Applies [`decide`]: `true` lets the webview go on (the app's pages only).
pub fn guard(url: &Url, dev_server: Option<&Url>) -> bool {
    match decide(url, dev_server) {
        Navigation::Stay => true,
        Navigation::External(link) => {
            open_external(&link);
            false
        }
        Navigation::Refuse => {
            tracing::warn!(scheme = url.scheme(), "window: navigation refused");
            false
        }
    }
}

/// Opens `link` (already checked to be http(s) or mailto) with `$BROWSER`
/// when set, else the desktop's opener. The link is one argument, never
/// passed through a shell.
pub fn open_external(link: &str) {
    let opener = std::env::var_os("BROWSER")
        .filter(|b| !b.is_empty())
        .map_or_else(default_opener, |b| (b, Vec::new()));
    let (program, mut args) = opener;
    args.push(link.into());
    match std::process::Command::new(&program).args(&args).spawn() {
        Ok(mut child) => {
            // Reaped off the UI thread; the opener returns at once.
            std::thread::spawn(move || drop(child.wait()));
        }
        Err(e) => tracing::warn!(error = %e, "cannot open the link in the browser"),
    }
}

fn default_opener() -> (std::ffi::OsString, Vec<std::ffi::OsString>) {
    if cfg!(target_os = "macos") {
        ("open".into(), Vec::new())
    } else if cfg!(windows) {
        (
            "rundll32".into(),
            vec!["url.dll,FileProtocolHandler".into()],
        )
    } else {
        ("xdg-open".into(), Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(url: &str) -> Navigation {
        decide(&Url::parse(url).unwrap(), None)
    }

    #[test]
    fn the_app_s_own_pages_stay() {
        assert_eq!(at("tauri://localhost/index.html#/chat"), Navigation::Stay);
        assert_eq!(at("http://tauri.localhost/"), Navigation::Stay);
        let dev = Url::parse("http://localhost:1420/").unwrap();
        assert_eq!(
            decide(&Url::parse("http://localhost:1420/x").unwrap(), Some(&dev)),
            Navigation::Stay
        );
    }

    #[test]
    fn web_and_mail_links_go_to_the_system() {
        for link in [
            "https://docs.example/page?q=1",
            "http://intranet.example/",
            "mailto:someone@example.invalid",
            // Without a dev server, localhost is someone else's page.
            "http://localhost:1420/",
        ] {
            assert!(matches!(at(link), Navigation::External(_)), "{link}");
        }
    }

    #[test]
    fn everything_else_is_refused() {
        for link in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,hi",
            "tauri://evil.example/",
            "ms-settings:display",
            "blob:https://x/1",
        ] {
            assert_eq!(at(link), Navigation::Refuse, "{link}");
        }
    }
}
