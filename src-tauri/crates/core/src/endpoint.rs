//! Where the API key may be sent: one rule for every front end.
//!
//! The key goes in an `Authorization` header with every request, so the
//! base URL decides who reads it. Plain `http://` is readable by anyone on
//! the path: it is allowed only to this machine (the simulator, a local
//! gateway, an SSH tunnel). Anything else must be `https://`.

/// Checks `url` as an API base URL; the error says why in a sentence.
pub fn check_base_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    if url.contains(char::is_whitespace) || url.chars().any(char::is_control) {
        return Err(format!("`{url}` is not a URL"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not an http(s) URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // user:password@ is refused: it would leak with every request too.
    if authority.contains('@') {
        return Err(format!(
            "`{url}` carries credentials; give the key with `llmaas key set`"
        ));
    }
    let host = host_of(authority);
    if host.is_empty() {
        return Err(format!("`{url}` names no host"));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        "http" => Err(format!(
            "`{url}` is plain http to another machine, which would expose the API key: use https:// (http:// is allowed only to this machine)"
        )),
        _ => Err(format!("`{url}` is not an http(s) URL")),
    }
}

/// `host` of `host[:port]`, `[v6]` of `[v6][:port]`.
fn host_of(authority: &str) -> &str {
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_to_this_machine() {
        for ok in [
            "https://api.ai.cloud-temple.com/v1",
            "https://hub.example:8443/v1",
            "http://127.0.0.1:8765/v1",
            "http://localhost:9/v1",
            "http://[::1]:80/v1",
            "http://127.1.2.3/v1",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.example/v1",
            "http://10.0.0.5:8765/v1",
            "http://localhost.evil.example/v1",
            "http://127.0.0.1.evil.example/v1",
            "ftp://x/v1",
            "https:///v1",
            "https://user:pw@host/v1",
            "http://evil.example#@127.0.0.1/",
            "api.example/v1",
            "https://a b/v1",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
        let e = check_base_url("http://hub.lan/v1").unwrap_err();
        assert!(e.contains("use https://"), "{e}");
    }
}
