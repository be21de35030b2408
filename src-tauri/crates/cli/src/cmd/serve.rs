//! `llmaas serve`: the local OpenAI-compatible API over the same router as
//! every other command, until Ctrl-C or SIGTERM; then a graceful shutdown
//! (open streams finish, within the gateway's grace period).

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};

use llmaas_gateway::{Gateway, GatewayOptions, TlsFiles};

use crate::args::ServeArgs;
use crate::context::Ctx;
use crate::error::{CliError, Exit};

pub fn run(ctx: &Ctx, args: &ServeArgs) -> Result<Exit, CliError> {
    let bind = bind_addr(&args.bind, args.port)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    if !bind.ip().is_loopback() && tls.is_none() {
        // Not refused (a trusted LAN or a TLS proxy in front are real set-ups),
        // but bearer tokens and prompts would cross the network in clear.
        eprintln!(
            "warning: listening on {} without TLS: tokens and prompts travel unencrypted; \
             give --tls-cert and --tls-key, or put a TLS proxy in front",
            bind.ip()
        );
    }
    // The local models ready now are listed by /v1/models with route hint `local`.
    let local_models = ctx
        .local_library()
        .models()
        .iter()
        .filter(|m| m.is_ready())
        .map(|m| m.id.clone())
        .collect();
    let options = GatewayOptions {
        bind,
        tls,
        cors_origins: args.cors.clone(),
        local_models,
        ..GatewayOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::io("starting the async runtime"))?;
    runtime.block_on(async {
        let (router, engine) = ctx.router_and_engine().await?;
        // A GGUF file dropped into the models folder is served without a
        // restart (the listing the router asks `serves` is kept current).
        let _watch = llmaas_local::watch::watch(engine.library(), |models| {
            let ready = models.iter().filter(|m| m.is_ready()).count();
            tracing::info!(ready, total = models.len(), "local models folder changed");
        })
        .map_err(|e| tracing::warn!(error = %e, "cannot watch the models folder"))
        .ok();
        let tokens = ctx.tokens().await?;
        let bound = Gateway::new(router, tokens, options).bind().await?;
        // The one line scripts wait for (the port is known even for --port 0).
        println!("llmaas gateway listening on {}", bound.url());
        std::io::stdout()
            .flush()
            .map_err(CliError::io("writing to stdout"))?;
        tracing::info!(url = %bound.url(), "gateway listening");
        bound.run(shutdown_signal()).await;
        eprintln!("llmaas gateway stopped");
        Ok(Exit::Ok)
    })
}

/// `ADDR` with `--port`, or a whole `ADDR:PORT`.
fn bind_addr(bind: &str, port: u16) -> Result<SocketAddr, CliError> {
    if let Ok(addr) = bind.parse::<SocketAddr>() {
        return Ok(addr);
    }
    bind.trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, port))
        .map_err(|_| CliError::Usage(format!("--bind `{bind}` is not an IP address")))
}

/// Ctrl-C, or SIGTERM (systemd, docker stop).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    () = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
    eprintln!("llmaas gateway: shutting down; finishing open requests…");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_takes_an_address_or_an_address_and_port() {
        assert_eq!(
            bind_addr("127.0.0.1", 9000).unwrap(),
            "127.0.0.1:9000".parse().unwrap()
        );
        assert_eq!(
            bind_addr("0.0.0.0:443", 9000).unwrap(),
            "0.0.0.0:443".parse().unwrap()
        );
        assert_eq!(bind_addr("::1", 1).unwrap(), "[::1]:1".parse().unwrap());
        assert!(bind_addr("localhost", 1).is_err());
    }
}
