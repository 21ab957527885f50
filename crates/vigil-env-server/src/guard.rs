//! Who may call the server: the optional API key (vLLM's convention, `Authorization: Bearer
//! <key>`, on every route but `/health`) and the client's address, which per-client session
//! limits count by. Both are layers/extractors, so every route of the router gets them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ServerError;
use crate::server::App;

/// Routes open without the key (liveness probes).
const OPEN_ROUTES: [&str; 1] = ["/health"];

/// Middleware: with an API key configured, a request without the right bearer token gets 401.
pub(crate) async fn require_key(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if let Some(key) = &app.api_key {
        let given = req.headers().get(header::AUTHORIZATION).map(axum::http::HeaderValue::as_bytes);
        if !OPEN_ROUTES.contains(&req.uri().path()) && !vigil_core::auth::bearer_matches(given, key) {
            return ServerError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

/// The client's IP address, when the server was started with connection info (always for
/// [`EnvServer::serve`](crate::EnvServer::serve); not for a router embedded elsewhere).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Client(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}
