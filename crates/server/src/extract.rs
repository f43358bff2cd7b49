//! Request extractors that turn bad input into `ApiError`s: JSON bodies, query strings and ids
//! in the path (a path segment that is not a positive integer is a 400, never a file name).

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use callrec_types::wire::ErrorCode;
use serde::de::DeserializeOwned;
use std::str::FromStr;

/// `Json<T>` whose rejection is `{code: "malformed_json", message}`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(v) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

/// `Query<T>` whose rejection is `{code: "bad_query", message}`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Query(v) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(v))
    }
}

/// The single `{id}` segment of the path, parsed as a typed id.
pub struct Id<T>(pub T);

impl<S: Send + Sync, T: FromStr + Send> FromRequestParts<S> for Id<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request(ErrorCode::BadId, "the id in the path is missing or malformed"))?;
        raw.parse::<T>()
            .map(Id)
            .map_err(|_| ApiError::bad_request(ErrorCode::BadId, "the id in the path must be a positive integer"))
    }
}
