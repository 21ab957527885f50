//! Request extractors whose rejections are [`ServerError`]s, so a bad body or query string gets
//! the same JSON error shape as every other failure (axum's own rejections are plain text).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ServerError;

/// A JSON body, whatever the `Content-Type` (curl's `-d` sends form encoding by default).
/// `Body<Option<T>>` accepts an empty body as `None`.
#[derive(Debug)]
pub(crate) struct Body<T>(pub T);

/// The body as `T`; an empty or whitespace-only body is an error naming what was expected.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ServerError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ServerError::BadRequest("the request body is empty; a JSON object is required".into()));
    }
    // serde would also read a struct from a JSON array; the API only speaks objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ServerError::BadRequest("invalid JSON body: expected a JSON object `{...}`".into()));
    }
    serde_json::from_slice(bytes).map_err(|e| ServerError::BadRequest(format!("invalid JSON body: {e}")))
}

fn body_error(r: BytesRejection, limit: usize) -> ServerError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ServerError::PayloadTooLarge { limit }
    } else {
        ServerError::BadRequest(format!("could not read the request body: {}", r.body_text()))
    }
}

/// Types the server knows its body limit for (the app state).
pub(crate) trait BodyLimit {
    fn body_limit(&self) -> usize;
}

impl<S, T> FromRequest<S> for Body<T>
where
    S: BodyLimit + Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| body_error(r, state.body_limit()))?;
        Ok(Body(parse_json(&bytes)?))
    }
}

/// An optional JSON body: empty means `None`.
#[derive(Debug)]
pub(crate) struct OptionalBody<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalBody<T>
where
    S: BodyLimit + Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| body_error(r, state.body_limit()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(None));
        }
        Ok(OptionalBody(Some(parse_json(&bytes)?)))
    }
}

/// Query parameters, with a JSON error naming the bad parameter.
#[derive(Debug)]
pub(crate) struct Params<T>(pub T);

impl<S, T> FromRequestParts<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(r) => Err(ServerError::BadRequest(r.body_text())),
        }
    }
}
