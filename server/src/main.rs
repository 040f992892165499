//! `carry`: serves Carry with the settings in the environment (see the README).

use server::config::Settings;
use std::process::ExitCode;
use std::sync::Arc;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["serve"] => serve().await,
        ["audit", "verify"] => audit_verify().await,
        ["practice", "create", flags @ ..] => practice_create(flags).await,
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

const USAGE: &str = "usage: carry [serve]        serve Carry (the default)
       carry audit verify   check the access log's hash chains
       carry practice create --name NAME --ods CODE --admin-name NAME --admin-email EMAIL
                            make a GP practice and email its first administrator an invitation";

/// Makes a practice and queues its first administrator's invitation (the running server's
/// mail worker sends it). Exits 0 when made, 2 on bad input or configuration, 1 otherwise.
async fn practice_create(flags: &[&str]) -> ExitCode {
    let mut values = std::collections::HashMap::new();
    let mut rest = flags.iter();
    while let Some(flag) = rest.next() {
        let known = ["--name", "--ods", "--admin-name", "--admin-email"];
        match (known.contains(flag), rest.next()) {
            (true, Some(value)) => {
                values.insert(*flag, *value);
            }
            (true, None) => {
                eprintln!("carry: {flag} needs a value\n{USAGE}");
                return ExitCode::from(2);
            }
            (false, _) => {
                eprintln!("carry: unknown option {flag}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let get = |k: &str| values.get(k).copied().unwrap_or("");
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("carry: {e}");
            return ExitCode::from(2);
        }
    };
    let db = match store::Db::connect(&store::DbOptions::new(settings.database_url.clone())).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("carry: cannot open the database (DATABASE_URL): {e}");
            return ExitCode::from(2);
        }
    };
    let services = match service::Services::new(db.clone(), Arc::new(service::SystemClock), settings.service.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("carry: {e}");
            return ExitCode::from(2);
        }
    };
    let made = services.create_practice(get("--name"), get("--ods"), get("--admin-name"), get("--admin-email")).await;
    db.close().await;
    match made {
        Ok(id) => {
            println!(
                "made practice {} ({}), id {id}; an invitation to {} is queued and the running server emails it",
                get("--name").trim(),
                get("--ods").trim().to_uppercase(),
                get("--admin-email").trim()
            );
            ExitCode::SUCCESS
        }
        Err(service::ServiceError::Validation(v)) => {
            for e in v.0 {
                let flag = match e.field.as_str() {
                    "ods_code" => "--ods".to_owned(),
                    f => format!("--{}", f.replace('_', "-")),
                };
                eprintln!("carry: {flag}: {}", e.message);
            }
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("carry: could not make the practice: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Recomputes the access log's hash chains and reports the first break. Exits 0 when intact,
/// 1 when a break is found, 2 when it cannot run.
async fn audit_verify() -> ExitCode {
    // Only the database is needed, so this runs with DATABASE_URL alone.
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/carry.db".to_owned());
    if let Err(e) = store::Backend::from_url(&url) {
        eprintln!("carry: configuration error: DATABASE_URL {e}");
        return ExitCode::from(2);
    }
    let db = match store::Db::connect_existing(&store::DbOptions::new(url)).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("carry: cannot open the database (DATABASE_URL): {e}");
            return ExitCode::from(2);
        }
    };
    let report = match db.conn().await {
        Ok(mut conn) => store::audit::verify(&mut conn).await,
        Err(e) => Err(e),
    };
    db.close().await;
    match report {
        Ok(r) => match r.first_problem {
            None => {
                println!("access log intact: {} rows in {} chains", r.rows, r.chains);
                ExitCode::SUCCESS
            }
            Some(p) => {
                println!("access log BROKEN after {} good rows: {p}", r.rows);
                ExitCode::from(1)
            }
        },
        Err(e) => {
            eprintln!("carry: cannot read the access log: {e}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            // One clear line naming the variable, before logging exists.
            eprintln!("carry: {e}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(settings.json_logs);
    // From here a panic logs its incident id and location, never its message.
    server::panics::install_hook();
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
