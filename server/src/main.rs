//! `carry`: serves Carry with the settings in the environment (see the README).

use server::config::Settings;
use std::process::ExitCode;
use std::sync::Arc;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            // One clear line naming the variable, before logging exists.
            eprintln!("carry: {e}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(settings.json_logs);
    let listener = match tokio::net::TcpListener::bind(settings.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("carry: cannot listen on {} (CARRY_LISTEN): {e}", settings.listen);
            return ExitCode::FAILURE;
        }
    };
    match server::start(&settings, Arc::new(service::SystemClock), listener).await {
        Ok(running) => {
            tracing::info!(address = %running.addr, public_url = %settings.service.public_url, mode = ?settings.mode, "Carry is ready");
            tokio::select! {
                _ = running.task => {}
                _ = shutdown_signal() => tracing::info!("shutting down"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("carry: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
