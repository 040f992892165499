//! The Carry server: builds the router around the Leptos app, runs the workers, serves.

pub mod config;
pub mod fhir;
mod health_links;
pub mod panics;
mod routes;
pub mod telemetry;
mod web;

use app::ssr::UiSettings;
use app::{shell, App};
use axum::extract::Extension;
use axum::routing::{get, post};
use axum::Router;
use config::{Mode, Settings};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use service::{Clock, MailTransportConfig, Services};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use web::WebState;

/// Largest request body accepted (forms and passkey responses are far smaller).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("cannot open the database: {0}")]
    Database(#[from] store::StoreError),
    /// The services could not be built.
    #[error("cannot start: {0}")]
    Service(#[from] service::ServiceError),
    /// The address could not be bound.
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// A built server: its router and the services behind it.
pub struct Carry {
    /// The whole HTTP surface.
    pub router: Router,
    /// The use cases (for workers and tests).
    pub services: Services,
}

/// Opens the database, builds the services (seeding demo people in demo mode) and the router.
pub async fn build(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Carry, StartError> {
    let db =
        store::Db::connect(&store::DbOptions { url: settings.database_url.clone(), max_connections: settings.database_max_connections })
            .await?;
    tracing::info!(database = db.backend().name(), "database ready");
    let services = Services::new(db, clock, settings.service.clone())?;
    if settings.mode == Mode::Demo {
        // The people the home page lists, the carer's access and the demo practice's staff.
        services.seed_demo().await?;
    }

    let outbox = match (&settings.service.mail, settings.mode) {
        (MailTransportConfig::Folder { path }, Mode::Demo | Mode::Development) => Some(path.clone()),
        _ => None,
    };
    let ui = UiSettings { demo: settings.mode == Mode::Demo };
    let leptos_options = LeptosOptions::builder()
        .output_name("carry")
        .site_root(settings.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(settings.listen)
        .build();
    let context = {
        let services = services.clone();
        move || {
            provide_context(services.clone());
            provide_context(ui.clone());
            // The nonce the security-headers layer put in this response's CSP.
            if let Some(nonce) = use_context::<axum::http::request::Parts>().and_then(|p| p.extensions.get::<web::PageNonce>().cloned()) {
                provide_context(leptos::nonce::Nonce::from_value(nonce.0));
            }
        }
    };
    let web =
        WebState::new(services.clone(), &settings.service.public_url, settings.mode != Mode::Production, settings.trust_forwarded_for);

    let mut router = Router::new()
        .route("/health", get(routes::health))
        .route(routes::EXPORT_DOWNLOAD, get(routes::export_download))
        .route(routes::SUMMARY_DOCUMENT, get(routes::summary_document))
        .route(health_links::MAKE, post(health_links::make_link))
        .route(health_links::VIEWER, get(health_links::viewer));
    if let Some(path) = outbox {
        router = router.route("/dev/outbox", get(routes::dev_outbox)).layer(Extension(routes::OutboxFolder(path)));
    }
    // The built bundle is served directly: through the Leptos fallback every file request
    // builds a new file service and costs about as much as rendering a page.
    let pkg = settings.site_root.join("pkg");
    router = router.nest_service("/pkg", tower_http::services::ServeDir::new(pkg).precompressed_br().precompressed_gzip());
    let router = router
        .leptos_routes_with_context(&leptos_options, page_routes().to_vec(), context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<LeptosOptions, _>(context, shell))
        .with_state(leptos_options)
        .layer(axum::middleware::from_fn(web::mark_unknown_fields))
        .layer(axum::middleware::from_fn_with_state(web.clone(), web::resolve_caller))
        .layer(axum::middleware::from_fn_with_state(web.clone(), web::require_same_origin))
        // A panic while answering a page or a server function is a 500 page with an incident id.
        .layer(panics::for_pages())
        // The FHIR API authenticates machines with bearer tokens: no cookies, no same-origin rule.
        // Its panics answer as OperationOutcomes.
        .merge(fhir::router().layer(panics::for_fhir()))
        // Whoever holds a health link reads its manifest and files from any origin, without a cookie.
        .merge(health_links::public_router().layer(panics::for_pages()))
        .layer(Extension(services.clone()))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(web.clone(), web::security_headers))
        .layer(axum::middleware::from_fn_with_state(web, web::canonical_host))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            // Never the raw path: it can hold an emailed token.
            let route = web::loggable_path(req.uri().path());
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
            tracing::info_span!("request", method = %req.method(), route = %route, request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // The id is always Carry's own: one a client sent could be chosen to mislead the access log.
        .layer(axum::middleware::map_request(|mut req: axum::http::Request<axum::body::Body>| async move {
            req.headers_mut().remove("x-request-id");
            req
        }));
    Ok(Carry { router, services })
}

/// A server listening in the background (for tests and `serve`).
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The services behind it.
    pub services: Services,
    /// The serving task.
    pub task: tokio::task::JoinHandle<()>,
}

/// Starts serving on `listener` with the mail worker and the periodic sweep running beside it.
pub async fn start(settings: &Settings, clock: Arc<dyn Clock>, listener: tokio::net::TcpListener) -> Result<Running, StartError> {
    let carry = build(settings, clock).await?;
    let addr = listener.local_addr()?;
    let services = carry.services.clone();
    tokio::spawn(services.clone().run_mail_worker());
    tokio::spawn(services.clone().run_grant_reminder_worker());
    tokio::spawn(services.clone().run_care_record_worker());
    tokio::spawn(services.clone().run_export_worker());
    tokio::spawn({
        let services = services.clone();
        async move {
            let mut every = tokio::time::interval(Duration::from_secs(300));
            loop {
                every.tick().await;
                if let Err(e) = services.sweep_expired().await {
                    tracing::warn!(error = %e, "sweep failed");
                }
            }
        }
    });
    let task = tokio::spawn(async move {
        use axum::serve::ListenerExt;
        let app = carry.router.into_make_service_with_connect_info::<SocketAddr>();
        // Without TCP_NODELAY a response written in two parts (headers, then a file's body)
        // waits for the client's delayed ACK: about 40 ms on every static file.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(error = %e, "could not set TCP_NODELAY");
            }
        });
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(Running { addr, services, task })
}

/// The app's pages, worked out once per process.
///
/// Leptos finds the pages by rendering the app with resource loading switched off, and that
/// switch is one flag for the whole process: a page rendering on another server in the same
/// process at that moment (tests run many servers side by side) would wait for its data forever.
/// Working the list out once, before any server in the process can answer, closes that window.
fn page_routes() -> &'static [AxumRouteListing] {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App))
}

/// Every path the server answers: its own routes, the pages, and the server functions. The
/// authorisation matrix test reads this, so a route added without a row in the matrix fails it.
pub fn route_inventory() -> Vec<String> {
    let mut paths: Vec<String> = [
        "/health",
        "/dev/outbox",
        "/pkg/*",
        routes::EXPORT_DOWNLOAD,
        routes::SUMMARY_DOCUMENT,
        health_links::MAKE,
        health_links::VIEWER,
        health_links::MANIFEST,
        health_links::FILE,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    paths.extend(fhir::PATHS.iter().map(|p| (*p).to_owned()));
    paths.extend(page_routes().iter().map(|r| r.path().to_owned()));
    paths.extend(leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p.to_owned()));
    paths.sort();
    paths.dedup();
    paths
}
