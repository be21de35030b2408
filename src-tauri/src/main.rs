// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // candle reads this per thread from the environment: it must be set
    // before any thread starts (see the CLI's main and the README).
    if std::env::var_os(llmaas_local::DEQUANTIZE_F16_ENV).is_none() {
        // SAFETY: no other thread exists yet; nothing reads the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(llmaas_local::DEQUANTIZE_F16_ENV, "1");
        }
    }
    if let Err(e) = llmaas_desktop::run() {
        eprintln!("llmaas-desktop: {e}");
        std::process::exit(1);
    }
}
