// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(why) = llmaas_core::cpu::check() {
        eprintln!("llmaas-desktop: {why}");
        std::process::exit(1);
    }
    // SAFETY: first thing in `main`, before any thread exists.
    #[allow(unsafe_code)]
    unsafe {
        llmaas_local::threads::configure();
    }
    if let Err(e) = llmaas_desktop::run() {
        eprintln!("llmaas-desktop: {e}");
        std::process::exit(1);
    }
}
