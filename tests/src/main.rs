//! `llmaas-sim`: the LLMaaS simulator from the command line, for demos and manual
//! tests. Prints `llmaas-sim listening on http://ADDR/v1` and serves until Ctrl-C.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Parser;
use llmaas_core::Tier;
use llmaas_sim::{Faults, SimConfig, Simulator};

#[derive(Debug, Parser)]
#[command(
    name = "llmaas-sim",
    version,
    about = "Simulates the LLMaaS API (tiers, faults) for tests and demos"
)]
struct Args {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Account tier: 1, 2, 3, 4 or monthly.
    #[arg(long, default_value = "1")]
    tier: Tier,
    /// Accepted API key (repeatable; default sk-test).
    #[arg(long = "key")]
    keys: Vec<String>,
    /// Override the tier's output tokens per hour.
    #[arg(long)]
    output_per_hour: Option<u64>,
    /// Override the tier's output tokens per day.
    #[arg(long)]
    output_per_day: Option<u64>,
    /// Delay before the response headers, in milliseconds.
    #[arg(long, default_value_t = 0)]
    first_byte_delay_ms: u64,
    /// Delay between streamed tokens, in milliseconds.
    #[arg(long, default_value_t = 0)]
    token_delay_ms: u64,
    /// Drop streams after N tokens.
    #[arg(long, value_name = "N")]
    cut_after: Option<u32>,
    /// Answer the next N calls with 503.
    #[arg(long, value_name = "N", default_value_t = 0)]
    fail_next: u32,
    /// Status for --fail-next.
    #[arg(long, default_value_t = 503)]
    fail_status: u16,
    /// Send a malformed chunk after N tokens.
    #[arg(long, value_name = "N")]
    malformed_after: Option<u32>,
    /// Answer the next N calls with 429.
    #[arg(long, value_name = "N", default_value_t = 0)]
    rate_limit_next: u32,
    /// Retry-After seconds sent with 429 and 503.
    #[arg(long, value_name = "S")]
    retry_after: Option<u32>,
    /// Leave out the usage chunk at the end of streams.
    #[arg(long)]
    no_stream_usage: bool,
}

impl Args {
    fn config(&self) -> SimConfig {
        let defaults = SimConfig::default();
        SimConfig {
            keys: if self.keys.is_empty() {
                defaults.keys
            } else {
                self.keys.clone()
            },
            tier: self.tier,
            output_tokens_per_hour: self.output_per_hour,
            output_tokens_per_day: self.output_per_day,
            faults: Faults {
                first_byte_delay: Duration::from_millis(self.first_byte_delay_ms),
                token_delay: Duration::from_millis(self.token_delay_ms),
                cut_after_tokens: self.cut_after,
                fail_next: self.fail_next,
                fail_status: self.fail_status,
                malformed_after_tokens: self.malformed_after,
                rate_limit_next: self.rate_limit_next,
                retry_after: self.retry_after,
                omit_stream_usage: self.no_stream_usage,
            },
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // Logs go to stderr: stdout carries only the address line that scripts read.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let sim = match Simulator::start_on(args.config(), SocketAddr::new(args.bind, args.port)) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("llmaas-sim: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "llmaas-sim listening on {}", sim.base_url());
    let _ = out.flush();
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    std::process::ExitCode::SUCCESS
}
